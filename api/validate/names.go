package validate

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of free-form values.
const (
	// MaxNameLen bounds names, hosts, project and user ids, and map keys and values, in bytes
	// (Nova's VARCHAR(255)).
	MaxNameLen = 255
	// MaxMetadataItems bounds a server's metadata (Nova's default quota).
	MaxMetadataItems = 128
)

// Name checks the free-form value of field: at most MaxNameLen bytes of valid UTF-8 without
// control characters (IsControl). The empty string is accepted unless required.
func Name(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalidf("%s is required", field)
		}
		return nil
	}
	if len(s) > MaxNameLen || !utf8.ValidString(s) {
		return invalidf("%s must be valid UTF-8 of at most %d bytes", field, MaxNameLen)
	}
	if containsControl(s) {
		return invalidf("%s must not contain control characters", field)
	}
	return nil
}

// IsControl reports whether r is a control character, Unicode category Cc: C0 (U+0000..U+001F),
// DEL and C1 (U+0080..U+009F, which holds a terminal's 8-bit CSI, U+009B).
func IsControl(r rune) bool { return unicode.IsControl(r) }

func containsControl(s string) bool { return strings.ContainsFunc(s, IsControl) }

// Metadata checks the string map of field: at most max items, keys that pass Name (required),
// values of at most MaxNameLen bytes of valid UTF-8.
func Metadata(field string, m map[string]string, max int) error {
	if len(m) > max {
		return invalidf("%s has %d items, more than %d", field, len(m), max)
	}
	for k, v := range m {
		if err := Name(field+" key", k, true); err != nil {
			return err
		}
		if len(v) > MaxNameLen || !utf8.ValidString(v) {
			return invalidf("%s value of %q must be valid UTF-8 of at most %d bytes", field, k, MaxNameLen)
		}
	}
	return nil
}

// Times a stored record can hold: after the Unix epoch (which the state stores as "unset") and
// before 2262 (the end of int64 nanoseconds).
var (
	MinTime = time.Unix(0, 0).UTC()
	MaxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// Time checks a timestamp given by a client: the zero time means unset; anything else must lie
// strictly between MinTime and MaxTime.
func Time(field string, t time.Time) error {
	if t.IsZero() || (t.After(MinTime) && t.Before(MaxTime)) {
		return nil
	}
	return invalidf("%s %s is out of range: want a time after %s and before %s", field,
		t.UTC().Format(time.RFC3339), MinTime.Format(time.RFC3339), MaxTime.Format(time.RFC3339))
}
