package cellurl

import (
	"errors"
	"testing"
)

func TestPyFormat(t *testing.T) {
	subs := map[string]string{"a": "A", "port": "None", "user name": "spaced"}
	tests := []struct {
		name     string
		template string
		want     string
		wantErr  error
	}{
		{"empty", "", "", nil},
		{"literal only", "plain text", "plain text", nil},
		{"single field", "{a}", "A", nil},
		{"fields and literals", "x{a}y{a}z", "xAyAz", nil},
		{"None value", "{port}", "None", nil},
		{"name with space", "{user name}", "spaced", nil},
		{"escaped open", "{{", "{", nil},
		{"escaped close", "}}", "}", nil},
		{"escaped field", "{{a}}", "{a}", nil},
		{"escape next to field", "{{{a}}}", "{A}", nil},
		{"unknown name", "{b}", "", ErrUnknownVariable},
		{"case-sensitive name", "{A}", "", ErrUnknownVariable},
		{"single open at end", "x{", "", ErrMalformedTemplate},
		{"unterminated field", "{a", "", ErrMalformedTemplate},
		{"single close", "a}b", "", ErrMalformedTemplate},
		{"close after field", "{a}}", "", ErrMalformedTemplate},
		{"empty field", "{}", "", ErrMalformedTemplate},
		{"positional", "{0}", "", ErrMalformedTemplate},
		{"unicode positional", "{\u0663}", "", ErrMalformedTemplate},
		{"format spec", "{a:>5}", "", ErrMalformedTemplate},
		{"empty format spec", "{a:}", "", ErrMalformedTemplate},
		{"conversion", "{a!s}", "", ErrMalformedTemplate},
		{"attribute", "{a.b}", "", ErrMalformedTemplate},
		{"index", "{a[0]}", "", ErrMalformedTemplate},
		{"nested braces", "{a{a}}", "", ErrUnknownVariable},
		{"error after a good field", "{a}{b}", "", ErrUnknownVariable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := pyFormat(tc.template, subs)
			if got != tc.want {
				t.Errorf("pyFormat(%q): got %q, want %q", tc.template, got, tc.want)
			}
			switch {
			case tc.wantErr == nil && err != nil:
				t.Errorf("pyFormat(%q): got error %v, want nil", tc.template, err)
			case tc.wantErr != nil && !errors.Is(err, tc.wantErr):
				t.Errorf("pyFormat(%q): got error %v, want %v", tc.template, err, tc.wantErr)
			}
		})
	}
}
