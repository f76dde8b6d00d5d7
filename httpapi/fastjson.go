package httpapi

import (
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/cellmap/cellmap/fsm"
)

// The lookup path encodes instance mappings by hand: the same bytes encoding/json writes for
// api.InstanceMapping (fastjson_test.go checks it), without reflection or per-field allocations.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does (HTML-safe escaping,
// invalid UTF-8 replaced).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendString(b, s)
}

func appendTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendInstanceMapping appends m as JSON followed by a newline, like json.Encoder.
func appendInstanceMapping(b []byte, m *fsm.InstanceMapping) []byte {
	b = append(b, `{"instance_uuid":`...)
	b = appendString(b, m.InstanceUUID)
	b = append(b, `,"cell_uuid":`...)
	b = appendNullable(b, m.CellUUID)
	b = append(b, `,"project_id":`...)
	b = appendString(b, m.ProjectID)
	b = append(b, `,"user_id":`...)
	b = appendNullable(b, m.UserID)
	b = append(b, `,"queued_for_delete":`...)
	b = strconv.AppendBool(b, m.QueuedForDelete)
	b = append(b, `,"created_at":`...)
	b = appendTime(b, m.CreatedAt)
	b = append(b, `,"updated_at":`...)
	b = appendTime(b, m.UpdatedAt)
	b = append(b, `,"revision":`...)
	b = strconv.AppendUint(b, m.Revision, 10)
	return append(b, "}\n"...)
}
