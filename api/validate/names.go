package validate

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Bounds of free-form values.
const (
	// MaxNameLen bounds names, hosts, ids, project and user ids in characters (Nova's
	// VARCHAR(255) of utf8), and metadata keys and values in bytes.
	MaxNameLen = 255
	// MaxHostBytes bounds a host name in bytes as well: it is a key of the replicated state,
	// whose keys have at most 512 bytes.
	MaxHostBytes = 512
	// MaxMetadataItems bounds a server's metadata (Nova's default quota).
	MaxMetadataItems = 128
)

// Name checks the free-form value of field: valid UTF-8 of at most MaxNameLen characters
// without control characters (IsControl). The empty string is accepted unless required.
func Name(field, s string, required bool) error {
	if s == "" {
		if required {
			return invalidf("%s is required", field)
		}
		return nil
	}
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > MaxNameLen {
		return invalidf("%s must be valid UTF-8 of at most %d characters", field, MaxNameLen)
	}
	if containsControl(s) {
		return invalidf("%s must not contain control characters", field)
	}
	return nil
}

// Host checks a compute host's name: a required Name of at most MaxHostBytes bytes.
func Host(field, s string) error {
	if err := Name(field, s, true); err != nil {
		return err
	}
	if len(s) > MaxHostBytes {
		return invalidf("%s must have at most %d bytes", field, MaxHostBytes)
	}
	return nil
}

// IsControl reports whether r is a control character, Unicode category Cc: C0 (U+0000..U+001F),
// DEL and C1 (U+0080..U+009F, which holds a terminal's 8-bit CSI, U+009B).
func IsControl(r rune) bool { return unicode.IsControl(r) }

func containsControl(s string) bool { return strings.ContainsFunc(s, IsControl) }

// Metadata checks the string map of field: at most max items, keys of 1 to MaxNameLen bytes
// of valid UTF-8 without control characters, values of at most MaxNameLen bytes of valid
// UTF-8.
func Metadata(field string, m map[string]string, max int) error {
	if len(m) > max {
		return invalidf("%s has %d items, more than %d", field, len(m), max)
	}
	for k, v := range m {
		switch {
		case k == "":
			return invalidf("%s key is required", field)
		case len(k) > MaxNameLen || !utf8.ValidString(k):
			return invalidf("%s key must be valid UTF-8 of at most %d bytes", field, MaxNameLen)
		case containsControl(k):
			return invalidf("%s key must not contain control characters", field)
		case len(v) > MaxNameLen || !utf8.ValidString(v):
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
