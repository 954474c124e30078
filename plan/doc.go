// Package plan decides what is out of date. It joins the desired state (the
// configuration, its templates and renders: a Workspace), the recorded state
// and the lockfile, computes a fingerprint for every node over all of its
// inputs, and returns the changes, each with the reasons that name the
// inputs that moved.
//
// Making a plan has no side effects: it reads files, git checkouts and the
// state, and writes nothing but its caches (the stat cache and the plan
// cache; the local state backend keeps a summary of the state it read),
// which only make the next plan faster: each entry is keyed by the digests
// of everything it was computed from. Apply decides from fingerprints,
// never from reason text.
package plan
