package acl

import (
	"errors"
	"strings"
	"testing"
)

// TestPasswordHash: argon2id PHC strings with a random salt; the right password matches, a
// wrong one is ErrBadPassword, malformed hashes and oversized costs are refused.
func TestPasswordHash(t *testing.T) {
	p := HashParams{Time: 1, MemoryKiB: 64, Threads: 1}
	a, err := HashPassword("s3cret", p)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := HashPassword("s3cret", p)
	if a == b || !strings.HasPrefix(a, "$argon2id$v=19$m=64,t=1,p=1$") || strings.Contains(a, "s3cret") {
		t.Fatalf("hashes %q %q: want distinct salted argon2id strings", a, b)
	}
	if err := CheckPassword("s3cret", a); err != nil {
		t.Fatalf("right password: %v", err)
	}
	for _, wrong := range []string{"s3cre", "s3cret ", "", strings.Repeat("x", MaxPasswordBytes+1)} {
		if err := CheckPassword(wrong, a); !errors.Is(err, ErrBadPassword) {
			t.Errorf("password %.10q: %v, want ErrBadPassword", wrong, err)
		}
	}
	for _, bad := range []string{"", "plain", "$argon2i$v=19$m=64,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=4194304,t=1,p=1$c2FsdHNhbHQ$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$!!$" + strings.Repeat("A", 43)} {
		if err := CheckPassword("x", bad); err == nil || errors.Is(err, ErrBadPassword) {
			t.Errorf("hash %q: %v, want a malformed-hash error", bad, err)
		}
	}
	if _, err := HashPassword("", p); err == nil {
		t.Error("empty password accepted")
	}
	if _, err := HashPassword("x", HashParams{}); err == nil {
		t.Error("zero costs accepted")
	}
}
