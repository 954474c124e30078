package state

import (
	"errors"
	"sync"
)

// Manager serializes changes to one state from many goroutines. It keeps the
// state in memory and applies each Update to a copy, one at a time, writing
// the result through the backend; so two nodes finishing together each add
// their own entry and neither overwrites the other's.
//
// The caller holds the backend's lock for as long as it uses a Manager.
type Manager struct {
	backend Backend

	mu    sync.Mutex
	state *State
}

// NewManager reads the state from b.
func NewManager(b Backend) (*Manager, error) {
	s, err := b.Read()
	if err != nil {
		return nil, err
	}
	return &Manager{backend: b, state: s}, nil
}

// NewManagerFor manages s, a state the caller has just read from b under
// b's lock, so that everything computed from s (a plan, with digests salted
// by its lineage) stays consistent with what the manager writes.
func NewManagerFor(b Backend, s *State) *Manager {
	return &Manager{backend: b, state: s.DeepCopy()}
}

// View calls fn with the current state, read-only and without a copy, while
// no Update can change it. fn must not keep the state or anything in it.
func (m *Manager) View(fn func(*State)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.state)
}

// State returns a copy of the current state.
func (m *Manager) State() *State {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.state.DeepCopy()
}

// Update calls fn with a copy of the current state and writes what fn left
// in it. If fn or the write fails, nothing changes, in memory or on disk, and
// the error is returned; a failed write is a *WriteError. fn must not keep
// the state it is given.
func (m *Manager) Update(fn func(*State) error) error {
	if fn == nil {
		return errors.New("update state: no change given")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	next := m.state.DeepCopy()
	if err := fn(next); err != nil {
		return err
	}
	if err := m.backend.Write(next); err != nil {
		return &WriteError{Err: err}
	}
	m.state = next
	return nil
}

// WriteError is an Update whose change could not be written to the backend:
// it is not recorded. Its message is the backend's.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }

func (e *WriteError) Unwrap() error { return e.Err }
