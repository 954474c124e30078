// Package layers holds the test that keeps hybrid's package layering: a
// package may import only packages of lower layers (and internal helpers),
// never one of its own layer or above.
package layers
