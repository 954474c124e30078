// Package logs sets up the one log/slog logger every hybrid command uses.
//
// Records go to a rotated file, logs/hybrid.log in the workspace, from INFO
// up (or from a lower level when one is asked for), and to stderr only when a
// level is asked for explicitly, by the command line or by the HYBRID_LOG
// environment variable as TF_LOG does for terraform, so that a normal run's
// terminal output stays clean. Registered secret values are replaced with
// "(sensitive)" before a record reaches any destination, where they stand as
// whole values; values shorter than MinSecretLength are not redacted.
//
// The package owns the log format and the log files; it must not import any
// other hybrid package, and it never decides what is logged.
package logs
