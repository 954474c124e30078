package main

import (
	"bufio"
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/hashicorp/hcl/v2"
)

// forceUnlockCommand removes a state lock whose holder is gone.
type forceUnlockCommand struct{ s streams }

type forceUnlockArgs struct {
	LockID  string
	Force   bool
	NoColor bool
}

func (c *forceUnlockCommand) Synopsis() string { return "Remove a stale state lock" }

func (c *forceUnlockCommand) Help() string {
	return strings.TrimSpace(`
Usage: hybrid force-unlock [options] LOCK_ID

  Removes the state lock with the given ID, for when the command that took
  it is gone or stuck and the lock keeps others from writing the state. The
  ID is in the "state is locked" error. A lock whose holder died is taken
  over by the next command anyway; force-unlock is for the lock info left
  behind, and says so when the holder is still running. When the holder is
  gone, the packer builds it started that still run are killed first, as
  the next command would, and named.

  Removing a lock that is still in use lets two commands write the state at
  once. force-unlock asks for confirmation first; without a terminal it
  needs -force.

Options:
  -force               Do not ask for confirmation.
  -no-color            Do not colour the output.
`)
}

func parseForceUnlockArgs(args []string) (*forceUnlockArgs, hcl.Diagnostics) {
	a := &forceUnlockArgs{}
	fs := newFlagSet("force-unlock")
	fs.BoolVar(&a.Force, "force", false, "")
	fs.BoolVar(&a.NoColor, "no-color", false, "")
	if err := parseFlags(fs, args); err != nil {
		return nil, flagError("force-unlock", err)
	}
	switch fs.NArg() {
	case 0:
		return nil, flagError("force-unlock", fmt.Errorf("missing LOCK_ID: hybrid force-unlock LOCK_ID (the ID is in the \"state is locked\" error)"))
	case 1:
	default:
		return nil, flagError("force-unlock", fmt.Errorf("unexpected argument %q: force-unlock takes one lock ID", fs.Arg(1)))
	}
	a.LockID = strings.TrimSpace(fs.Arg(0))
	if a.LockID == "" || strings.HasPrefix(a.LockID, "-") {
		return nil, flagError("force-unlock", fmt.Errorf("invalid lock ID %q", fs.Arg(0)))
	}
	return a, nil
}

func (c *forceUnlockCommand) Run(args []string) int {
	a, diags := parseForceUnlockArgs(args)
	v := newView(c.s, a != nil && a.NoColor)
	if diags.HasErrors() {
		v.diagnostics(nil, diags)
		return 1
	}
	return c.run(a, v)
}

func (c *forceUnlockCommand) run(a *forceUnlockArgs, v *view) int {
	store, files, diags := workspaceState(context.Background())
	if diags.HasErrors() {
		v.diagnostics(files, diags)
		return 1
	}
	backend := store.backend
	if !a.Force {
		if !c.s.InTTY {
			v.errorf("force-unlock asks for confirmation, and stdin is not a terminal; run hybrid force-unlock -force %s to remove the lock without asking", a.LockID)
			return 1
		}
		fmt.Fprintln(c.s.Out, v.bold("Do you really want to force-unlock?"))
		fmt.Fprintf(c.s.Out, "  hybrid will remove lock %s on %s.\n", a.LockID, store.name)
		if info, _ := backend.LockInfo(context.Background()); info != nil {
			fmt.Fprintf(c.s.Out, "  The lock is held by %s (hybrid %s, pid %d) since %s.\n",
				orUnknown(info.Who), orUnknown(info.Operation), info.PID, info.Created.UTC().Format(time.RFC3339))
			for _, ch := range info.Children {
				fmt.Fprintf(c.s.Out, "  It started %s (pid %d), ended first if its holder is gone.\n", orUnknown(ch.What), ch.PID)
			}
		}
		fmt.Fprintln(c.s.Out, "  Other hybrid commands can then write the state, even if the holder still")
		fmt.Fprintln(c.s.Out, "  uses it. Only 'yes' will be accepted to confirm.")
		fmt.Fprint(c.s.Out, "\n  Enter a value: ")
		answer, _ := bufio.NewReader(c.s.In).ReadString('\n')
		fmt.Fprintln(c.s.Out)
		if strings.TrimSpace(answer) != "yes" {
			fmt.Fprintln(c.s.Out, "force-unlock cancelled: the lock is left in place.")
			return 1
		}
	}
	err := backend.ForceUnlock(context.Background(), a.LockID)
	if ct := store.children(); ct != nil {
		if ended := ct.EndedChildren(); len(ended) > 0 {
			v.diagnostics(nil, hcl.Diagnostics{endedDiag(ended, "before removing its lock")})
		}
	}
	if err != nil {
		v.diagnostics(nil, errDiag("Cannot force-unlock the state", err, ""))
		return 1
	}
	fmt.Fprintf(c.s.Out, "%s Other hybrid commands can now lock and write the state.\n", v.paint("32;1", "The state has been unlocked."))
	return 0
}
