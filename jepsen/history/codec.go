package history

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
)

// ErrCorrupt is returned for a history line that is not a valid event.
var ErrCorrupt = errors.New("history: corrupt line")

// maxLine bounds one JSON line (a final listing of a long run can be large).
const maxLine = 256 << 20

// Encode writes events as JSON lines.
func Encode(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	for i := range events {
		if err := enc.Encode(&events[i]); err != nil {
			return fmt.Errorf("history: encode event %d: %w", events[i].Seq, err)
		}
	}
	return bw.Flush()
}

// Decode reads JSON lines written by [Encode] or a [Recorder]. A truncated last line (the
// harness was killed mid-write) is ignored; any other bad line is an error.
func Decode(r io.Reader) ([]Event, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxLine)
	var events []Event
	var pending error
	line := 0
	for sc.Scan() {
		line++
		if pending != nil {
			return nil, pending
		}
		b := sc.Bytes()
		if len(b) == 0 {
			continue
		}
		var e Event
		if err := json.Unmarshal(b, &e); err != nil {
			pending = fmt.Errorf("%w %d: %v", ErrCorrupt, line, err)
			continue
		}
		events = append(events, e)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("history: read: %w", err)
	}
	return events, nil
}

// Load reads a history file.
func Load(path string) ([]Event, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Decode(f)
}
