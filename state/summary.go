package state

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/gob"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"

	"github.com/hybridcore/hybrid/internal/atomicfile"
)

// SummarySuffix names the file beside the snapshot where the local backend
// keeps the summary of the state it last read fully (see ReadSummary).
const SummarySuffix = ".summary"

// summaryFormat names the summary file's layout (gob); a file of another
// format is ignored. Change it whenever State, Render or Build change.
const summaryFormat = "hybrid-state-summary 1"

// LazyDetails loads the details a summary leaves out. A summary is a state
// whose records carry only what a plan reads of an unchanged record: the
// header and sources whole, renders without their Inputs and Values,
// builds without their Inputs, and no Trees. Those are most of a large
// state's bytes, and a plan reads them only to explain a change: Details
// decodes them then.
type LazyDetails struct {
	once  sync.Once
	load  func() (*State, error)
	state *State
	err   error
}

// Summarized reports whether s is a summary, whose details (renders'
// Inputs and Values, builds' Inputs, Trees) Details must load.
func (s *State) Summarized() bool { return s != nil && s.Lazy != nil }

// Details returns the whole state s stands for: s itself when it is whole,
// else the state decoded (once) from the very bytes the summary was made
// of, which hold the same records and header as s plus the details.
func (s *State) Details() (*State, error) {
	if s == nil || s.Lazy == nil {
		return s, nil
	}
	d := s.Lazy
	d.once.Do(func() {
		d.state, d.err = d.load()
		if d.err == nil && (d.state.Lineage != s.Lineage || d.state.Serial != s.Serial) {
			d.err = fmt.Errorf("state details do not match their summary (lineage %s serial %d, summary %s serial %d)", d.state.Lineage, d.state.Serial, s.Lineage, s.Serial)
		}
		d.load = nil
	})
	return d.state, d.err
}

// summarize returns the summary of a whole state.
func summarize(s *State) *State {
	c := &State{
		FormatVersion: s.FormatVersion, Serial: s.Serial, Lineage: s.Lineage, Packer: s.Packer,
		Plugins: s.Plugins, Sources: s.Sources, LastRun: s.LastRun,
		Renders: make(map[string]*Render, len(s.Renders)), Builds: make(map[string]*Build, len(s.Builds)),
	}
	for addr, r := range s.Renders {
		x := *r
		x.Inputs, x.Values = nil, nil
		c.Renders[addr] = &x
	}
	for addr, b := range s.Builds {
		x := *b
		x.Inputs = nil
		c.Builds[addr] = &x
	}
	return c
}

// summaryFile is the summary file's content: the summary's fields.
type summaryFile struct {
	Format string
	// Key digests the snapshot's and the journal's bytes the state was
	// decoded from: the same bytes always decode to the same state.
	Key           [sha256.Size]byte
	FormatVersion int
	Serial        uint64
	Lineage       string
	Packer        *Packer
	Plugins       map[string]Plugin
	Sources       map[string]*Source
	Renders       map[string]*Render
	Builds        map[string]*Build
	LastRun       *Run
}

// summaryKey digests what Read decodes a state from.
func summaryKey(snapshot, journal []byte) [sha256.Size]byte {
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00%d\x00", summaryFormat, len(snapshot))
	h.Write(snapshot)
	h.Write(journal)
	var k [sha256.Size]byte
	h.Sum(k[:0])
	return k
}

// SummaryPath is the summary kept beside the snapshot.
func (l *Local) SummaryPath() string { return l.path + SummarySuffix }

// ReadSummary reads the stored state as Read does, for a plan: when the
// snapshot and the journal are byte for byte those the summary file was
// made from, it returns that summary (see Summarized), whose Details are
// decoded from those bytes only if asked for; otherwise it decodes the
// state whole, returns it, and saves its summary for the next read. A
// client that commits must Read instead: a summary never records
// l.known, so a Commit after it reads the state again.
func (l *Local) ReadSummary(ctx context.Context) (*State, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("read state: %w", err)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	jdata, jfi, err := readJournal(l.JournalPath())
	if err != nil {
		l.readErr = fmt.Errorf("read state journal: %w", err)
		return nil, l.readErr
	}
	sdata, sfi, err := readFile(l.path)
	l.readKey = ""
	if err != nil {
		// No snapshot (a new state), or one that cannot be read: as
		// Read says.
		s, _, err := l.load()
		l.readErr = err
		return s, err
	}
	key := summaryKey(sdata, jdata)
	l.readKey = hex.EncodeToString(key[:])
	if s := readSummaryFile(l.SummaryPath(), key); s != nil {
		s.Lazy = &LazyDetails{load: func() (*State, error) {
			s, _, err := decodeStored(l.path, l.JournalPath(), sdata, jdata)
			return s, err
		}}
		l.readErr = nil
		l.known = known{}
		return s, nil
	}
	s, k, err := decodeStored(l.path, l.JournalPath(), sdata, jdata)
	l.readErr = err
	if err != nil {
		return nil, err
	}
	k.snap, k.journal, k.journalSize = sfi, jfi, int64(len(jdata))
	l.known = k
	// The summary only spares the next plan work: failing to save it
	// changes nothing.
	_ = writeSummaryFile(l.SummaryPath(), key, summarize(s))
	return s, nil
}

// ReadKey identifies the stored state the last ReadSummary returned: the
// digest of the snapshot's and the journal's bytes it was decoded from, as
// Key gives it. It is "" before any ReadSummary and when there was no
// snapshot to read.
func (l *Local) ReadKey() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.readKey
}

// Key identifies the stored state as it is now, without decoding it: the
// digest of the snapshot's and the journal's bytes, which always decode to
// the same state. It is "" when there is no snapshot. Call it under the
// lock for a key that no writer moves while it is used.
func (l *Local) Key(ctx context.Context) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("read state: %w", err)
	}
	jdata, _, err := readJournal(l.JournalPath())
	if err != nil {
		return "", fmt.Errorf("read state journal: %w", err)
	}
	sdata, _, err := readFile(l.path)
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read state: %w", err)
	}
	key := summaryKey(sdata, jdata)
	return hex.EncodeToString(key[:]), nil
}

// readSummaryFile returns the summary in path when it was made from the
// bytes key digests; nil otherwise.
func readSummaryFile(path string, key [sha256.Size]byte) *State {
	f, err := os.OpenFile(path, os.O_RDONLY|oNoFollow, 0)
	if err != nil {
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(f)
	if err != nil {
		return nil
	}
	var sf summaryFile
	if err := gob.NewDecoder(bytes.NewReader(data)).Decode(&sf); err != nil || sf.Format != summaryFormat || sf.Key != key {
		return nil
	}
	// gob leaves out empty maps and slices: give them back as Decode
	// does, except the details, which stay nil.
	s := &State{FormatVersion: sf.FormatVersion, Serial: sf.Serial, Lineage: sf.Lineage, Packer: sf.Packer,
		Plugins: sf.Plugins, Sources: sf.Sources, Renders: sf.Renders, Builds: sf.Builds, LastRun: sf.LastRun}
	s.normalizeMaps()
	for _, r := range s.Renders {
		if r == nil {
			return nil
		}
	}
	for _, b := range s.Builds {
		if b == nil {
			return nil
		}
		if b.Artifacts == nil {
			b.Artifacts = []Artifact{}
		}
		for i := range b.Artifacts {
			if b.Artifacts[i].Files == nil {
				b.Artifacts[i].Files = []string{}
			}
		}
	}
	return s
}

// writeSummaryFile saves a summary, into an existing directory only.
func writeSummaryFile(path string, key [sha256.Size]byte, s *State) error {
	if _, err := os.Stat(filepath.Dir(path)); err != nil {
		return nil
	}
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&fs.ModeSymlink != 0 {
		return errors.New("the state summary is a symbolic link")
	}
	var buf bytes.Buffer
	sf := &summaryFile{Format: summaryFormat, Key: key, FormatVersion: s.FormatVersion, Serial: s.Serial, Lineage: s.Lineage,
		Packer: s.Packer, Plugins: s.Plugins, Sources: s.Sources, Renders: s.Renders, Builds: s.Builds, LastRun: s.LastRun}
	if err := gob.NewEncoder(&buf).Encode(sf); err != nil {
		return err
	}
	return atomicfile.Write(path, buf.Bytes(), filePerm)
}
