//go:build !unix

package state

// oNoFollow is not available here: the journal is opened like any file.
const oNoFollow = 0
