package state

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// The local backend's journal is a text file beside the snapshot
// (<path>.journal), one line per commit, appended and fsync'd before the
// commit returns:
//
//	<sha256 of PAYLOAD, 64 hex digits> <PAYLOAD>\n
//
// where PAYLOAD is compact JSON (which never holds a raw newline):
//
//	{"format_version":2,"lineage":"<uuid>","serial":N,"change":{...}}
//
// serial is the serial the change makes (the one before it plus one) and
// change is a Change. A line without its newline, or whose checksum does
// not match, is torn: a crash cut it short. Reading stops at the first torn
// line, so a crash at any byte leaves exactly the commits that completed.

// journalSumLen is the length of a line's checksum in hex digits.
const journalSumLen = 2 * sha256.Size

// journalEntry is one line of the journal.
type journalEntry struct {
	FormatVersion int     `json:"format_version"`
	Lineage       string  `json:"lineage"`
	Serial        uint64  `json:"serial"`
	Change        *Change `json:"change"`
}

// encodeEntry returns the journal line of e, newline included.
func encodeEntry(e *journalEntry) ([]byte, error) {
	var payload bytes.Buffer
	enc := json.NewEncoder(&payload)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(e); err != nil {
		return nil, fmt.Errorf("encode state change: %w", err)
	}
	p := bytes.TrimSuffix(payload.Bytes(), []byte("\n"))
	sum := sha256.Sum256(p)
	line := make([]byte, 0, journalSumLen+1+len(p)+1)
	line = hex.AppendEncode(line, sum[:])
	line = append(line, ' ')
	line = append(line, p...)
	return append(line, '\n'), nil
}

// journalLine is one whole line of a journal, checksum verified.
type journalLine struct {
	payload []byte
	// end is the offset just past the line's newline.
	end int64
}

// splitJournal returns the whole, checksum-verified lines at the start of
// data, and whether anything follows them (a torn or corrupt line, and
// whatever comes after it).
func splitJournal(data []byte) (lines []journalLine, rest bool) {
	off := 0
	for off < len(data) {
		nl := bytes.IndexByte(data[off:], '\n')
		if nl < 0 {
			return lines, true
		}
		line := data[off : off+nl]
		if len(line) < journalSumLen+2 || line[journalSumLen] != ' ' {
			return lines, true
		}
		payload := line[journalSumLen+1:]
		sum := sha256.Sum256(payload)
		var hexSum [journalSumLen]byte
		hex.Encode(hexSum[:], sum[:])
		if !bytes.Equal(hexSum[:], line[:journalSumLen]) {
			return lines, true
		}
		off += nl + 1
		lines = append(lines, journalLine{payload: payload, end: int64(off)})
	}
	return lines, false
}

// decodeEntry parses a verified line's payload. A line whose checksum
// matches was written whole by a hybrid, so one that does not parse (or
// comes from a newer format) is an error, never taken for a torn write.
func decodeEntry(payload []byte) (*journalEntry, error) {
	var e journalEntry
	if err := json.Unmarshal(payload, &e); err != nil {
		return nil, err
	}
	switch {
	case e.FormatVersion > FormatVersion:
		return nil, fmt.Errorf("written by a newer hybrid (format %d); upgrade hybrid (this one reads formats 1 to %d)", e.FormatVersion, FormatVersion)
	case e.FormatVersion != FormatVersion:
		return nil, fmt.Errorf("unknown format_version %d", e.FormatVersion)
	case e.Change == nil:
		return nil, fmt.Errorf("serial %d has no change", e.Serial)
	}
	if err := e.Change.Check(); err != nil {
		return nil, fmt.Errorf("serial %d: %w", e.Serial, err)
	}
	return &e, nil
}
