// Package hclguard bounds the work hostile HCL can make hybrid do, for the
// packages that parse and evaluate it (config for hybrid.hcl and var files,
// templates for packer templates and var files).
//
// It has three parts:
//
//   - Check scans a file's bytes before it is parsed and refuses one nested
//     deeper than MaxDepth (brackets, braces, parentheses, strings and their
//     interpolations, template directives, and each operator or postfix index
//     of a chain, all of which the HCL parser and evaluator handle by
//     recursion), or larger than MaxBytes or MaxTokens, with a diagnostic that
//     names the file and line. Without it a 200 KB file of nested parentheses
//     overflows the Go stack, which no recover can catch.
//   - Limits and Guard cap what expressions may build: strings, collections,
//     nesting and numbers of each value, and the total weight of what one
//     evaluation builds (Guard.Reset starts one), so string-doubling locals or
//     nested for expressions end in an error instead of an out-of-memory kill.
//   - Guard.Functions wraps a function table so that the result of any call
//     that takes a marked (sensitive) value is marked too, including can()
//     and try(), whose arguments are unevaluated expressions; the stock
//     versions drop the mark and let an expression rebuild a secret one
//     character at a time.
//
// The package knows nothing of hybrid.hcl or packer; it is a helper any layer
// may use.
package hclguard
