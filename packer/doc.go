// Package packer owns everything about running the packer binary: finding it,
// reading its version, and running `packer fmt`, `packer validate` and
// `packer build` for one image with its working directory, `-only` filter,
// var files in layer order and sensitive values in its environment.
//
// It parses packer's `-machine-readable` stream into typed events as the build
// runs, collects the artifacts packer reports, finds the manifest files the
// build wrote (also those with a timestamp in their name) and ties their
// entries to the build, and returns one structured Result per build, whose
// Error is the first error packer reported, whole. A build's output goes to
// two logs: the text packer would have printed on a terminal, for people,
// and the machine-readable stream as packer wrote it. ParseDiagnostics reads
// the "Error:" and "Warning:" blocks of packer's text output, with the file
// and line they point at.
//
// Every packer command is logged (log/slog, debug level) before it runs:
// its arguments and directory, and the names, never the values, of the
// variables it gets in its environment. PACKER_LOG and the rest of hybrid's
// environment pass through to packer.
//
// Sensitive values (Invocation.Vars) reach packer only as PKR_VAR_<name>
// environment variables: never on the command line, and they are redacted
// from the log and the events this package produces.
//
// Untrusted strings never become options: template paths that start with "-"
// are prefixed with "./", and -only and -var-file values are always passed as
// flag values.
//
// Packer runs supervised: in a process group of its own, which holds the
// plugins and provisioners' commands it starts and is interrupted, then
// killed, as a whole; on Linux with a parent-death signal, so packer dies
// with hybrid. The caller records the group while it runs
// (BuildOptions.Track), so that the next hybrid ends what a killed one left.
//
// The package knows nothing of hybrid's configuration, plan or state: it takes
// paths, names and values, runs packer and reports what happened. It writes no
// file itself; the caller owns the log writer and the state.
package packer
