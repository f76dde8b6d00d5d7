package api_test

import (
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
)

func TestNewUUIDIsCanonicalVersion4(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		u := api.NewUUID()
		if !validate.IsUUID(u) || u != strings.ToLower(u) {
			t.Fatalf("%q is not a canonical uuid", u)
		}
		if u[14] != '4' || !strings.ContainsRune("89ab", rune(u[19])) {
			t.Fatalf("%q: want version 4, variant RFC 4122", u)
		}
		if seen[u] {
			t.Fatalf("%q generated twice", u)
		}
		seen[u] = true
	}
}
