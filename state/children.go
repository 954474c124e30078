package state

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Child is a process the lock holder started that could outlive it: a packer
// build, leader of a process group that holds everything packer starts
// (plugins, provisioners' commands). The holder records its children in the
// lock info while they run, so that whoever takes the lock over after the
// holder died ends them before it does anything: two runs of one build must
// never overlap.
type Child struct {
	// PID is the process ID; PGID its process group's ID (the same for a
	// group leader).
	PID  int `json:"pid"`
	PGID int `json:"pgid"`
	// Start is when the process started, in clock ticks since boot
	// (/proc/PID/stat), so that a later process that reuses the PID is
	// never taken for it; 0 where it is not known.
	Start uint64 `json:"start,omitempty"`
	// What says what the process is for people: "packer build for
	// build.prod.linux".
	What string `json:"what"`
	// Since is when the process was recorded.
	Since time.Time `json:"since"`
}

// ChildEnv is the environment variable the lock holder sets, to its lock
// ID, in the environment of every child it starts (see Local.ChildEnv).
// Everything a child starts inherits it, so that a process the holder never
// got to record (it died between starting packer and writing the lock
// info), or one that left its group, is still known as the dead holder's.
const ChildEnv = "HYBRID_STATE_LOCK"

// How taking over a lock ends a dead holder's children: it waits up to
// orphanGrace for them to end on their own (their parent just died), then
// kills them and waits up to orphanKillWait for them to be gone.
const (
	orphanGrace    = 200 * time.Millisecond
	orphanKillWait = 5 * time.Second
	orphanPoll     = 20 * time.Millisecond
)

// Proc is one process: its ID and command name.
type Proc struct {
	PID     int    `json:"pid"`
	Command string `json:"command"`
}

// EndedChild is what taking over a lock did about one child of the holder
// that died: the processes of it still running were killed, or ended on
// their own while Lock waited.
type EndedChild struct {
	// Child is the child as the dead holder recorded it. For processes
	// found only by their ChildEnv (never recorded), PID and PGID are 0.
	Child Child `json:"child"`
	// Killed are the processes that were killed, by PID.
	Killed []Proc `json:"killed,omitempty"`
	// Exited are the processes that ended on their own.
	Exited []Proc `json:"exited,omitempty"`
}

// String says what was done, for a warning: "killed packer build for
// build.prod.linux (pid 4242, process group 4242): 4242 packer, 4250 sh".
func (e EndedChild) String() string {
	what := e.Child.What
	if what == "" {
		what = "a process"
	}
	if e.Child.PID > 0 {
		what += fmt.Sprintf(" (pid %d, process group %d)", e.Child.PID, e.Child.PGID)
	} else {
		what += " started by the dead holder but not recorded"
	}
	var parts []string
	if len(e.Killed) > 0 {
		parts = append(parts, "killed "+procList(e.Killed))
	}
	if len(e.Exited) > 0 {
		parts = append(parts, "ended on its own: "+procList(e.Exited))
	}
	return what + ": " + strings.Join(parts, "; ")
}

func procList(ps []Proc) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = strconv.Itoa(p.PID) + " " + orUnknown(p.Command)
	}
	return strings.Join(s, ", ")
}

// OrphanError is a lock that was not taken over because processes its dead
// holder left running could not be ended.
type OrphanError struct {
	Info  *LockInfo
	Procs []Proc
	// Reason says why they could not be ended.
	Reason string
}

// Error names the processes and says what to do.
func (e *OrphanError) Error() string {
	return fmt.Sprintf("state lock %s was held by %s (hybrid %s, pid %d), which is gone, but processes it started still run: %s (%s). Nothing was started, so two runs of one build cannot overlap: stop them, then run the command again",
		orUnknown(e.Info.ID), orUnknown(e.Info.Who), orUnknown(e.Info.Operation), e.Info.PID, procList(e.Procs), e.Reason)
}

// AddChild records c in the lock info of the lock l holds, before anything
// else is done with it. A zero c.Start is read from the system, a zero
// c.PGID is c.PID, a zero c.Since is now. Call RemoveChild once c and its
// process group have ended.
//
// An error means the child is not recorded: the caller should stop it, as
// a hybrid killed now would leave it running unknown to the next one (only
// ChildEnv would find it).
func (l *Local) AddChild(c Child) error {
	if err := CompleteChild(&c); err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return fmt.Errorf("record %s (pid %d): this process does not hold the state lock", orUnknown(c.What), c.PID)
	}
	info := *l.held
	info.Children = append(slices.Clip(info.Children), c)
	if err := l.writeLockInfo(&info); err != nil {
		return fmt.Errorf("record %s (pid %d) in the state lock info: %w", orUnknown(c.What), c.PID, err)
	}
	l.held = &info
	return nil
}

// RemoveChild drops the child with process ID pid from the lock info, once
// it has ended; while processes of its group still run, the record stays. A
// failure leaves a record of a process that has ended, which the next
// holder recognises as gone; it is returned all the same.
func (l *Local) RemoveChild(pid int) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return nil
	}
	info := *l.held
	info.Children = WithoutChild(info.Children, pid)
	if len(info.Children) == len(l.held.Children) {
		return nil
	}
	if err := l.writeLockInfo(&info); err != nil {
		return fmt.Errorf("remove process %d from the state lock info: %w", pid, err)
	}
	l.held = &info
	return nil
}

// ChildEnv returns the environment entry "HYBRID_STATE_LOCK=<lock ID>" to
// give every child started under the lock l holds, or "" when it holds
// none.
func (l *Local) ChildEnv() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.held == nil {
		return ""
	}
	return ChildEnv + "=" + l.held.ID
}

// EndedChildren returns what the last Lock (or ForceUnlock) did about the
// processes the dead holder it took over from left running; nil when there
// were none.
func (l *Local) EndedChildren() []EndedChild {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.ended)
}

// CompleteChild checks c and fills in what AddChild leaves to the backend:
// a zero Start is read from the system, a zero PGID is the PID, a zero
// Since is now. Backends other than Local use it in their AddChild.
func CompleteChild(c *Child) error {
	if c.PID <= 0 {
		return errors.New("record child process: no process ID")
	}
	if c.PGID == 0 {
		c.PGID = c.PID
	}
	if c.Start == 0 {
		c.Start, _ = processStart(c.PID)
	}
	if c.Since.IsZero() {
		c.Since = time.Now().UTC()
	}
	return nil
}

// WithoutChild returns children without the child whose process ID is pid,
// unless processes of its group still run: a group that outlived its leader
// stays recorded, so the next holder still ends it if this one dies. The
// result is a new slice, nil when empty.
func WithoutChild(children []Child, pid int) []Child {
	out := slices.DeleteFunc(slices.Clone(children), func(c Child) bool {
		return c.PID == pid && !groupHasLive(c.PGID)
	})
	if len(out) == 0 {
		return nil
	}
	return out
}

// EndOrphans makes sure no process the dead lock holder prev started still
// runs on this machine, as Local.Lock does when it takes a lock over (see
// Child): it waits briefly for them to end, kills them, and reports what
// it did. The error is an *OrphanError when some still run. Backends whose
// lock can be held from another machine call it only when prev's holder
// ran on this one (see SameHost).
func EndOrphans(ctx context.Context, prev *LockInfo) ([]EndedChild, error) {
	if prev == nil || (prev.ID == "" && len(prev.Children) == 0) {
		return nil, nil
	}
	return endOrphans(ctx, prev)
}

// SameHost reports whether the lock info was written by a process on this
// machine (its Who names this host).
func SameHost(info *LockInfo) bool {
	_, host, ok := strings.Cut(info.Who, "@")
	if !ok {
		return false
	}
	return host == strings.SplitN(Who(), "@", 2)[1]
}

// orphan is a live process of a dead holder.
type orphan struct {
	Proc
	pgid int
	// start is when it started (see Child.Start).
	start uint64
	// child is the index of the recorded child whose group it is in, -1
	// for a process found by ChildEnv alone.
	child int
	// group is true when the process may be killed through its group: it
	// is in a recorded child's group whose identity was checked.
	group bool
}

// endOrphans makes sure no process the dead holder prev started still runs
// (see Child): it waits briefly for them to end, then kills them, and
// reports what it did. The error is an *OrphanError when some still run.
func endOrphans(ctx context.Context, prev *LockInfo) ([]EndedChild, error) {
	found := findOrphans(prev)
	if len(found) == 0 {
		return nil, nil
	}
	seen := map[int]orphan{}
	for _, o := range found {
		seen[o.PID] = o
	}
	// Their parent is gone: give them a moment to go too.
	deadline := time.Now().Add(orphanGrace)
	// Processes that come and go meanwhile (a provisioner's loop) are not
	// reported: only those seen first, and those killed.
	for len(found) > 0 && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(orphanPoll)
		found = findOrphans(prev)
	}
	killed := map[int]bool{}
	deadline = time.Now().Add(orphanKillWait)
	var failed error
	for len(found) > 0 {
		groups := map[int]error{}
		for _, o := range found {
			if _, ok := seen[o.PID]; !ok {
				seen[o.PID] = o
			}
			var err error
			if o.group {
				var done bool
				if err, done = groups[o.pgid]; !done {
					err = killProcessGroup(o.pgid)
					groups[o.pgid] = err
				}
			} else {
				err = killOrphan(o)
			}
			if err == nil {
				killed[o.PID] = true
			} else if failed == nil {
				failed = err
			}
		}
		time.Sleep(orphanPoll)
		found = findOrphans(prev)
		if time.Now().After(deadline) {
			break
		}
	}
	ended := report(prev, seen, killed)
	if len(found) > 0 {
		reason := fmt.Sprintf("still running %s after SIGKILL", orphanKillWait)
		if failed != nil {
			reason = failed.Error()
		}
		var procs []Proc
		for _, o := range found {
			procs = append(procs, o.Proc)
		}
		slices.SortFunc(procs, func(a, b Proc) int { return a.PID - b.PID })
		return ended, &OrphanError{Info: prev, Procs: procs, Reason: reason}
	}
	return ended, nil
}

// report groups what endOrphans saw by the recorded child it belongs to.
func report(prev *LockInfo, seen map[int]orphan, killed map[int]bool) []EndedChild {
	byChild := map[int]*EndedChild{}
	for _, o := range seen {
		e := byChild[o.child]
		if e == nil {
			e = &EndedChild{}
			if o.child >= 0 {
				e.Child = prev.Children[o.child]
			}
			byChild[o.child] = e
		}
		if killed[o.PID] {
			e.Killed = append(e.Killed, o.Proc)
		} else {
			e.Exited = append(e.Exited, o.Proc)
		}
	}
	keys := make([]int, 0, len(byChild))
	for k := range byChild {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var out []EndedChild
	for _, k := range keys {
		e := byChild[k]
		byPID := func(a, b Proc) int { return a.PID - b.PID }
		slices.SortFunc(e.Killed, byPID)
		slices.SortFunc(e.Exited, byPID)
		out = append(out, *e)
	}
	return out
}

// takeOverChildren ends the children of the dead holder prev before the
// lock is taken over, logging what it did. l.mu must be held.
func (l *Local) takeOverChildren(ctx context.Context, prev *LockInfo) error {
	l.ended = nil
	if prev == nil || (prev.ID == "" && len(prev.Children) == 0) {
		return nil
	}
	ended, err := endOrphans(ctx, prev)
	l.ended = ended
	for _, e := range ended {
		slog.Warn("ended a process left running by the dead holder of the state lock",
			"state", l.path, "lock_id", prev.ID, "holder_pid", prev.PID, "what", e.String())
	}
	return err
}

// isSelf reports whether pid is this process or its parent, which are
// never a dead holder's orphans even when they inherited its ChildEnv.
func isSelf(pid int) bool {
	return pid == os.Getpid() || pid == os.Getppid()
}
