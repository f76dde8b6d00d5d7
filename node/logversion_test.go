package node

import (
	"errors"
	"testing"

	"github.com/hashicorp/raft"
)

// TestMembersRead: an entry of log version v is proposed only when every other member (voter
// or not) answers that it reads v; a member that cannot be asked blocks it too.
func TestMembersRead(t *testing.T) {
	servers := []raft.Server{
		{ID: "n1", Address: "a1", Suffrage: raft.Voter},
		{ID: "n2", Address: "a2", Suffrage: raft.Voter},
		{ID: "n3", Address: "a3", Suffrage: raft.Nonvoter},
	}
	errDown := errors.New("connection refused")
	tests := []struct {
		name     string
		v        uint64
		versions map[string]uint64 // missing: cannot be asked
		ok       bool
	}{
		{"all read it", 2, map[string]uint64{"a2": 2, "a3": 3}, true},
		{"a voter is older", 2, map[string]uint64{"a2": 1, "a3": 2}, false},
		{"a non-voter is older", 2, map[string]uint64{"a2": 2, "a3": 1}, false},
		{"a member does not answer", 2, map[string]uint64{"a2": 2}, false},
		{"self is not asked", 2, map[string]uint64{"a2": 2, "a3": 2}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := membersRead(tc.v, "n1", servers, func(addr string) (uint64, error) {
				if addr == "a1" {
					t.Fatalf("asked itself")
				}
				v, ok := tc.versions[addr]
				if !ok {
					return 0, errDown
				}
				return v, nil
			})
			if tc.ok && err != nil {
				t.Fatalf("got %v, want nil", err)
			}
			if !tc.ok && !errors.Is(err, ErrUnsupportedVersion) {
				t.Fatalf("got %v, want ErrUnsupportedVersion", err)
			}
		})
	}
}
