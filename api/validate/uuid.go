package validate

import "strings"

// IsUUID reports whether s is a textual RFC 4122 uuid: 8-4-4-4-12 hex digits of either case,
// any version.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return ('0' <= c && c <= '9') || ('a' <= c && c <= 'f') || ('A' <= c && c <= 'F')
}

// UUID checks the uuid value of field and returns it lower-cased, the form records are
// stored and compared in.
func UUID(field, s string) (string, error) {
	if !IsUUID(s) {
		return "", invalidf("%s %q is not a uuid", field, s)
	}
	return strings.ToLower(s), nil
}
