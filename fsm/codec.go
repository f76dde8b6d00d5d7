package fsm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"
)

// errShortBuffer is reported when a body ends before its last field.
var errShortBuffer = errors.New("fsm: truncated body")

// encoder appends the compact binary form used for log entries and stored records: unsigned
// varints for counts and indexes, signed varints for times, length-prefixed strings.
type encoder struct{ b []byte }

func (e *encoder) byte1(v byte)     { e.b = append(e.b, v) }
func (e *encoder) uvarint(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) varint(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) str(s string)     { e.uvarint(uint64(len(s))); e.b = append(e.b, s...) }
func (e *encoder) boolean(v bool)   { e.byte1(boolByte(v)) }
func (e *encoder) timestamp(t time.Time) {
	if t.IsZero() {
		e.varint(0)
		return
	}
	e.varint(t.UnixNano())
}

// strMap writes a map in sorted key order so equal maps encode to equal bytes on every node.
func (e *encoder) strMap(m map[string]string) {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	e.uvarint(uint64(len(keys)))
	for _, k := range keys {
		e.str(k)
		e.str(m[k])
	}
}

func boolByte(v bool) byte {
	if v {
		return 1
	}
	return 0
}

// decoder reads what encoder wrote. The first error sticks; later reads return zero values, so a
// caller checks err once at the end.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(err error) {
	if d.err == nil {
		d.err = err
	}
}

func (d *decoder) byte1() byte {
	if d.err != nil || len(d.b) < 1 {
		d.fail(errShortBuffer)
		return 0
	}
	v := d.b[0]
	d.b = d.b[1:]
	return v
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail(errShortBuffer)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail(errShortBuffer)
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) rawBytes() []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(len(d.b)) {
		d.fail(errShortBuffer)
		return nil
	}
	p := d.b[:n:n]
	d.b = d.b[n:]
	return p
}

func (d *decoder) str() string { return string(d.rawBytes()) }

func (d *decoder) boolean() bool {
	switch d.byte1() {
	case 0:
		return false
	case 1:
		return true
	default:
		d.fail(errors.New("fsm: bad boolean"))
		return false
	}
}

func (d *decoder) timestamp() time.Time {
	ns := d.varint()
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

func (d *decoder) int64v() int64 { return d.varint() }

func (d *decoder) strMap() map[string]string {
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return nil
	}
	if n > uint64(len(d.b)) || n > math.MaxInt32 {
		d.fail(errShortBuffer)
		return nil
	}
	m := make(map[string]string, d.sizeHint(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		k := d.str()
		m[k] = d.str()
	}
	return m
}

// maxSizeHint bounds the room made up front for a declared count of items: entries are
// decoded before they are checked (a leader decodes what peers forward), so a count only
// says how much may follow, and memory grows with the items actually decoded.
const maxSizeHint = 64

func (d *decoder) sizeHint(n uint64) int { return int(min(n, maxSizeHint)) }

// finish reports a decode error or trailing garbage.
// more reports whether bytes remain: an optional trailing field of a newer log version.
func (d *decoder) more() bool { return d.err == nil && len(d.b) > 0 }

func (d *decoder) finish(what string) error {
	if d.err == nil && len(d.b) != 0 {
		d.err = fmt.Errorf("fsm: %d trailing bytes", len(d.b))
	}
	if d.err != nil {
		return fmt.Errorf("decode %s: %w", what, d.err)
	}
	return nil
}
