package cellurl

import (
	"fmt"
	"strings"
)

// pyFormat renders template like Python's template.format(**subs), limited
// to replacement fields that are plain keyword names. "{{" and "}}" are
// literal braces. It fails, returning "" and an error wrapping
// ErrMalformedTemplate or ErrUnknownVariable, on a single '{' or '}', an
// unterminated field, an empty or positional field, a field using a
// conversion, format spec, attribute or index, and a name not in subs.
func pyFormat(template string, subs map[string]string) (string, error) {
	var b strings.Builder
	b.Grow(len(template))
	for i := 0; i < len(template); {
		switch template[i] {
		case '{':
			if i+1 < len(template) && template[i+1] == '{' {
				b.WriteByte('{')
				i += 2
				continue
			}
			end := strings.IndexByte(template[i+1:], '}')
			if end < 0 {
				return "", unterminatedField(template, i)
			}
			val, err := fieldValue(template[i+1:i+1+end], subs)
			if err != nil {
				return "", err
			}
			b.WriteString(val)
			i += end + 2
		case '}':
			if i+1 < len(template) && template[i+1] == '}' {
				b.WriteByte('}')
				i += 2
				continue
			}
			return "", fmt.Errorf("%w: single '}' at offset %d", ErrMalformedTemplate, i)
		default:
			next := strings.IndexAny(template[i:], "{}")
			if next < 0 {
				next = len(template) - i
			}
			b.WriteString(template[i : i+next])
			i += next
		}
	}
	return b.String(), nil
}

// unterminatedField describes a '{' at offset i that has no closing '}'.
func unterminatedField(template string, i int) error {
	if i == len(template)-1 {
		return fmt.Errorf("%w: single '{' at offset %d", ErrMalformedTemplate, i)
	}
	return fmt.Errorf("%w: expected '}' before end of string (field opened at offset %d)",
		ErrMalformedTemplate, i)
}

// fieldValue resolves the text between the braces of one replacement field.
func fieldValue(field string, subs map[string]string) (string, error) {
	switch {
	case field == "":
		return "", fmt.Errorf("%w: empty field {} (positional arguments are not supported)",
			ErrMalformedTemplate)
	case isPositional(field):
		return "", fmt.Errorf("%w: positional field {%s}", ErrMalformedTemplate, field)
	case strings.ContainsAny(field, "!:.["):
		return "", fmt.Errorf("%w: unsupported conversion, format spec, attribute or index in {%s}",
			ErrMalformedTemplate, field)
	}
	val, ok := subs[field]
	if !ok {
		return "", fmt.Errorf("%w: %q", ErrUnknownVariable, field)
	}
	return val, nil
}

// isPositional reports whether field is made only of decimal digits, which
// str.format treats as a positional argument index.
func isPositional(field string) bool {
	for _, r := range field {
		if _, ok := decimalValue(r); !ok {
			return false
		}
	}
	return true
}
