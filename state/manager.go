package state

import (
	"context"
	"errors"
	"strings"
	"sync"
)

// Manager serializes commits to one state from many goroutines. It keeps
// the state in memory and commits each node's result through the backend
// as one small Change, one at a time; so two nodes finishing together each
// add their own record and neither overwrites the other's. The cost of a
// commit is that of its Change: the state is never copied or encoded whole.
//
// The Manager also keeps the trees in step with the builds: a Change that
// puts or deletes builds also deletes the trees no build refers to any
// more, and does not put a tree that no build refers to.
//
// Commits use a background context: a result is recorded even after the
// command was interrupted. The caller holds the backend's lock for as long
// as it uses a Manager.
type Manager struct {
	backend Backend

	mu    sync.Mutex
	state *State
	// refs counts, per tree digest, the build inputs that name it.
	refs map[string]int
	// orphans are trees in the state that no build refers to (the state
	// was read so); the next change to the builds deletes them.
	orphans map[string]bool
}

// NewManager reads the state from b.
func NewManager(ctx context.Context, b Backend) (*Manager, error) {
	s, err := b.Read(ctx)
	if err != nil {
		return nil, err
	}
	return newManager(b, s), nil
}

// NewManagerFor manages s, a state the caller has just read from b under
// b's lock, so that everything computed from s (a plan, with digests salted
// by its lineage) stays consistent with what the manager writes.
func NewManagerFor(b Backend, s *State) *Manager {
	return newManager(b, s.DeepCopy())
}

func newManager(b Backend, s *State) *Manager {
	s.normalizeMaps()
	m := &Manager{backend: b, state: s, refs: map[string]int{}, orphans: map[string]bool{}}
	for _, b := range s.Builds {
		if b != nil {
			for _, d := range b.Inputs {
				m.refs[d]++
			}
		}
	}
	for d := range s.Trees {
		if m.refs[d] == 0 {
			m.orphans[d] = true
		}
	}
	return m
}

// View calls fn with the current state, read-only and without a copy, while
// no commit can change it. fn must not keep the state or anything in it.
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

// PutSource records the checkout of the source named name.
func (m *Manager) PutSource(name string, src *Source) error {
	return m.Commit(&Change{Sources: map[string]*Source{name: src}})
}

// PutRender records the render at addr.
func (m *Manager) PutRender(addr string, r *Render) error {
	return m.Commit(&Change{Renders: map[string]*Render{addr: r}})
}

// PutBuild records the build at addr with the trees it read (nil for
// none); trees no build refers to any more go in the same commit.
func (m *Manager) PutBuild(addr string, b *Build, trees map[string]map[string]string) error {
	return m.Commit(&Change{Builds: map[string]*Build{addr: b}, Trees: trees})
}

// Forget deletes the record at addr (a source, render or build address);
// forgetting a build also deletes the trees no other build refers to.
func (m *Manager) Forget(addr string) error {
	return m.Commit(&Change{Delete: []string{addr}})
}

// SetLastRun records the command that wrote the state.
func (m *Manager) SetLastRun(r *Run) error {
	return m.Commit(&Change{LastRun: r})
}

// Commit commits c, a copy of it in fact: the caller may reuse what it put
// in c. A change that fails Check is refused as it is; a change the backend
// could not store is a *WriteError. Either way nothing changes, in memory
// or in the backend.
func (m *Manager) Commit(c *Change) error {
	if c == nil {
		return errors.New("commit to the state: no change given")
	}
	c = c.DeepCopy()
	if err := c.Check(); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	delta, pruned := m.prune(c)
	serial, err := m.backend.Commit(context.Background(), m.state.Lineage, m.state.Serial, c)
	if err != nil {
		return &WriteError{Err: err}
	}
	m.state.Apply(c)
	m.state.Serial = serial
	for d, n := range delta {
		if m.refs[d] += n; m.refs[d] <= 0 {
			delete(m.refs, d)
		}
	}
	if pruned {
		clear(m.orphans)
	}
	for d := range c.Trees {
		if m.refs[d] == 0 {
			m.orphans[d] = true
		}
	}
	for _, k := range c.Delete {
		delete(m.orphans, strings.TrimPrefix(k, TreeKeyPrefix))
	}
	return nil
}

// prune completes a change to the builds: it deletes the trees no build
// will refer to once c is applied, and leaves out the trees c puts that
// none refers to. It returns the change in tree references c makes, and
// whether c touches the builds. m.mu must be held.
func (m *Manager) prune(c *Change) (delta map[string]int, touches bool) {
	delta = map[string]int{}
	unref := func(addr string) {
		if old := m.state.Builds[addr]; old != nil {
			touches = true
			for _, d := range old.Inputs {
				delta[d]--
			}
		}
	}
	for addr, b := range c.Builds {
		touches = true
		unref(addr)
		for _, d := range b.Inputs {
			delta[d]++
		}
	}
	for _, k := range c.Delete {
		if strings.HasPrefix(k, "build.") {
			touches = true
			unref(k)
		}
	}
	if !touches {
		return delta, false
	}
	deleted := map[string]bool{}
	for _, k := range c.Delete {
		deleted[k] = true
	}
	drop := func(d string) {
		if m.refs[d]+delta[d] > 0 {
			return
		}
		delete(c.Trees, d)
		if _, ok := m.state.Trees[d]; ok && !deleted[TreeKey(d)] {
			deleted[TreeKey(d)] = true
			c.Delete = append(c.Delete, TreeKey(d))
		}
	}
	for d := range delta {
		drop(d)
	}
	for d := range c.Trees {
		drop(d)
	}
	for d := range m.orphans {
		drop(d)
	}
	return delta, true
}

// WriteError is a change that could not be committed to the backend: it is
// not recorded. Its message is the backend's.
type WriteError struct{ Err error }

func (e *WriteError) Error() string { return e.Err.Error() }

func (e *WriteError) Unwrap() error { return e.Err }
