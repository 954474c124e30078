// Package config owns hybrid.hcl: it decodes the file with hclparse and
// gohcl, evaluates its expressions (variables, locals, the cty standard
// library and file functions), expands image blocks with for_each into one
// image per element, validates names, references and cycles, and
// computes the merged variable values and var-file bytes for each image in
// each environment.
//
// hybrid.hcl may come from a pull request, so its cost is bounded: files are
// scanned before parsing and what expressions build is capped
// (internal/hclguard), and a value computed from a sensitive one stays
// sensitive through every function, can() and try() included.
//
// Every problem with the user's configuration is an hcl.Diagnostic with a
// Subject range, so it prints with file, line and snippet. The package reads
// files but never writes any: writing renders to configs/<env>/ is apply's.
// It knows nothing of packer templates, git or state; the packages above it
// check a configuration against those.
package config
