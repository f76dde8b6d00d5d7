package requestid

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestValid(t *testing.T) {
	t.Parallel()
	tests := []struct {
		id   string
		want bool
	}{
		{"", false},
		{"abc-123_XYZ.~", true},
		{strings.Repeat("a", MaxLen), true},
		{strings.Repeat("a", MaxLen+1), false},
		{"with space", false},
		{"tab\t", false},
		{"newline\nforged log line", false},
		{"del\x7f", false},
		{"é", false},
	}
	for _, tc := range tests {
		if got := Valid(tc.id); got != tc.want {
			t.Errorf("Valid(%q) = %v, want %v", tc.id, got, tc.want)
		}
	}
}

// TestOf: a valid client id is kept; a missing or invalid one is replaced by a new one.
func TestOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		header string
		keep   bool
	}{{"client-id-1", true}, {"", false}, {"bad id", false}, {strings.Repeat("x", 100), false}}
	for _, tc := range tests {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if tc.header != "" {
			r.Header.Set(Header, tc.header)
		}
		got := Of(r)
		if (got == tc.header) != tc.keep || !Valid(got) {
			t.Errorf("Of(%q) = %q, keep %v", tc.header, got, tc.keep)
		}
	}
	if a, b := New(), New(); a == b {
		t.Fatalf("two new ids are equal: %q", a)
	}
}

func TestContext(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if From(ctx) != "" || With(ctx, "") != ctx {
		t.Fatal("an empty context carries an id")
	}
	ctx = With(ctx, "r1")
	h := http.Header{}
	Set(ctx, h)
	if From(ctx) != "r1" || h.Get(Header) != "r1" {
		t.Fatalf("got %q, header %q", From(ctx), h.Get(Header))
	}
}
