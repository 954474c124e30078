package state

// SetJournalLimit makes l compact its journal once it is longer than n
// bytes, so that tests reach compaction with a few commits.
func SetJournalLimit(l *Local, n int64) { l.limit = n }
