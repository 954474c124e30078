package sources

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// This file holds the git side of a Tree: the long-lived git cat-file
// processes it reads objects through, and the protocol they speak. Each
// request is an object name on a line; each answer is
// "<name> <type> <size>\n<content>\n" (--batch), the same without the
// content (--batch-check), or "<name> missing\n".

// missingObjectError is an object the repository does not have.
type missingObjectError struct{ oid, gitDir string }

func (e *missingObjectError) Error() string {
	return fmt.Sprintf("object %s is missing from %s; run git fsck there, or delete it so hybrid fetches the source again", e.oid, e.gitDir)
}

// read returns the content of object oid, which must be of type want. With
// limit >= 0, a larger object is an error and is not read into memory.
func (t *Tree) read(oid, want string, limit int64) ([]byte, error) {
	var data []byte
	err := t.do(false, func(c *catFile) error {
		typ, size, err := c.header(oid)
		if err != nil {
			return err
		}
		if typ == "missing" {
			return &missingObjectError{oid: oid, gitDir: t.gitDir}
		}
		if typ != want || limit >= 0 && size > limit {
			if err := c.discard(size); err != nil {
				return err
			}
			if typ != want {
				return fmt.Errorf("object %s in %s is a %s, not a %s", oid, t.gitDir, typ, want)
			}
			return fmt.Errorf("object %s in %s is %d bytes, more than the %d a symbolic link may hold", oid, t.gitDir, size, limit)
		}
		data, err = c.body(size)
		return err
	})
	return data, err
}

// prefetchTrees reads the trees oids that are not cached yet into the
// cache, asking git for all of them before reading the answers, so they
// cost one round trip instead of one each. Errors about single trees are
// left for tree to report.
func (t *Tree) prefetchTrees(oids []string) error {
	var want []string
	seen := make(map[string]bool)
	t.cacheMu.RLock()
	for _, oid := range oids {
		if _, ok := t.trees[oid]; !ok && !seen[oid] {
			seen[oid] = true
			want = append(want, oid)
		}
	}
	t.cacheMu.RUnlock()
	if len(want) < 2 {
		return nil
	}
	parsed := make(map[string][]treeEntry, len(want))
	err := t.do(false, func(c *catFile) error {
		// git answers while the requests are still being written: write
		// them from another goroutine, or both sides could block on full
		// pipes.
		written := make(chan error, 1)
		go func() {
			var b strings.Builder
			for _, oid := range want {
				b.WriteString(oid)
				b.WriteByte('\n')
			}
			_, err := io.WriteString(c.in, b.String())
			written <- err
		}()
		var readErr error
		for _, oid := range want {
			typ, size, err := c.readHeader(oid)
			if err != nil {
				readErr = err
				break
			}
			if typ == "missing" {
				continue
			}
			data, err := c.body(size)
			if err != nil {
				readErr = err
				break
			}
			if typ != "tree" {
				continue
			}
			if entries, err := parseTree(data, t.rawLen); err == nil {
				parsed[oid] = entries
			}
		}
		if readErr != nil {
			// do stops the process, which ends the write too.
			return readErr
		}
		if err := <-written; err != nil {
			return &procError{c: c, err: err}
		}
		return nil
	})
	if err != nil {
		return err
	}
	t.cacheMu.Lock()
	for oid, entries := range parsed {
		t.trees[oid] = entries
	}
	t.cacheMu.Unlock()
	return nil
}

// size returns the size of object oid without reading it.
func (t *Tree) size(oid string) (int64, error) {
	var size int64
	err := t.do(true, func(c *catFile) error {
		typ, n, err := c.header(oid)
		if err != nil {
			return err
		}
		if typ == "missing" {
			return &missingObjectError{oid: oid, gitDir: t.gitDir}
		}
		size = n
		return nil
	})
	return size, err
}

// do runs fn with the cat-file process (the --batch-check one when check is
// set), starting it when needed, and once more when it died under fn.
func (t *Tree) do(check bool, fn func(c *catFile) error) error {
	t.mu.Lock()
	defer t.mu.Unlock()
	p, mode := &t.batch, "--batch"
	if check {
		p, mode = &t.check, "--batch-check"
	}
	for attempt := 0; ; attempt++ {
		if t.closed.Load() {
			return t.errClosed()
		}
		if err := t.ctx.Err(); err != nil {
			return fmt.Errorf("read commit %s in %s: %w", short(t.commit), t.gitDir, err)
		}
		if *p == nil {
			c, err := t.start(mode)
			if err != nil {
				return err
			}
			*p = c
		}
		err := fn(*p)
		var pe *procError
		if !errors.As(err, &pe) {
			return err
		}
		(*p).stop()
		*p = nil
		if err := t.ctx.Err(); err != nil {
			return fmt.Errorf("read commit %s in %s: %w", short(t.commit), t.gitDir, err)
		}
		if attempt > 0 {
			return err
		}
	}
}

// catFile is a running git cat-file --batch or --batch-check.
type catFile struct {
	cmd    *exec.Cmd
	mode   string
	in     io.WriteCloser
	out    *bufio.Reader
	stderr *tailBuffer
}

// procError is a cat-file process that failed to answer: it is stopped, and
// a new one started for the next request.
type procError struct {
	c   *catFile
	err error
}

func (e *procError) Error() string {
	msg := strings.Join(strings.Fields(e.c.stderr.String()), " ")
	if msg == "" {
		msg = e.err.Error()
	}
	return fmt.Sprintf("git cat-file %s: %s", e.c.mode, msg)
}

func (e *procError) Unwrap() error { return e.err }

// start starts git cat-file in mode.
func (t *Tree) start(mode string) (*catFile, error) {
	argv := append(append([]string{}, globalArgs...), "cat-file", mode)
	logCommand(t.git.bin(), t.gitDir, argv)
	cmd := exec.CommandContext(t.ctx, t.git.bin(), argv...)
	cmd.Dir = t.gitDir
	cmd.Env = t.env
	c := &catFile{cmd: cmd, mode: mode, stderr: &tailBuffer{max: 4096}}
	cmd.Stderr = c.stderr
	if t.git.Stderr != nil {
		cmd.Stderr = io.MultiWriter(c.stderr, t.git.Stderr)
	}
	cmd.WaitDelay = waitDelay
	detach(cmd)
	dieWithParent(cmd)
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("cannot run %s: install git 2.24 or newer, or put it on PATH: %w", t.git.bin(), err)
	}
	c.in, c.out = in, bufio.NewReaderSize(out, 64*1024)
	return c, nil
}

// stop kills the process and waits for it.
func (c *catFile) stop() {
	c.in.Close()
	if c.cmd.Process != nil {
		c.cmd.Process.Kill()
	}
	c.cmd.Wait()
}

// header asks for object oid and reads the answer's header: the type and
// size, or the type "missing".
func (c *catFile) header(oid string) (string, int64, error) {
	if _, err := io.WriteString(c.in, oid+"\n"); err != nil {
		return "", 0, &procError{c: c, err: err}
	}
	return c.readHeader(oid)
}

// readHeader reads the header of the answer about oid.
func (c *catFile) readHeader(oid string) (string, int64, error) {
	line, err := c.out.ReadString('\n')
	if err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return "", 0, &procError{c: c, err: err}
	}
	f := strings.Fields(line)
	switch {
	case len(f) == 2 && f[1] == "missing":
		return "missing", 0, nil
	case len(f) == 3:
		if size, err := strconv.ParseInt(f[2], 10, 64); err == nil && size >= 0 {
			return f[1], size, nil
		}
	}
	return "", 0, &procError{c: c, err: fmt.Errorf("unexpected answer %q for %s", strings.TrimSpace(line), oid)}
}

// body reads an object's content of size bytes and the newline after it.
func (c *catFile) body(size int64) ([]byte, error) {
	data := make([]byte, size+1)
	if _, err := io.ReadFull(c.out, data); err != nil {
		return nil, &procError{c: c, err: err}
	}
	if data[size] != '\n' {
		return nil, &procError{c: c, err: errors.New("object content not followed by a newline")}
	}
	return data[:size], nil
}

// discard skips an object's content of size bytes and the newline after it.
func (c *catFile) discard(size int64) error {
	if _, err := io.CopyN(io.Discard, c.out, size+1); err != nil {
		return &procError{c: c, err: err}
	}
	return nil
}

// tailBuffer keeps the last max bytes written to it; it is safe for
// concurrent use.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	buf []byte
}

func (b *tailBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.buf = append(b.buf, p...)
	if over := len(b.buf) - b.max; over > 0 {
		b.buf = append(b.buf[:0], b.buf[over:]...)
	}
	return len(p), nil
}

func (b *tailBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return string(b.buf)
}
