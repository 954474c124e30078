// Package graph is a generic directed acyclic graph of named vertices: it
// connects them, checks for cycles and dangling edges with readable,
// deterministic messages, orders them, narrows them to a target set, walks them
// concurrently in dependency order, and draws them as DOT or Mermaid text.
//
// An edge always points from a dependent to its dependency: after
// Connect(build, render), render is finished before build starts.
//
// The package knows nothing of packer, plans or state: vertices are only names
// to it. It must not import any other hybrid package, and it does no I/O of its
// own; rendering returns text for the caller to print or write.
package graph
