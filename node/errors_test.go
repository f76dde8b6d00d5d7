package node

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestPeerErrorsRoundTrip: a node error answered by a peer, on the raft port or the HTTP
// listener, comes back as the same sentinel with the peer's message; a peer shutting down
// means no leader (the asking node retries); any other failure stays a plain error.
func TestPeerErrorsRoundTrip(t *testing.T) {
	for _, tc := range []struct {
		err, want error
	}{
		{ErrNotLeader, ErrNotLeader},
		{fmt.Errorf("%w: no quorum", ErrNoLeader), ErrNoLeader},
		{ErrOutcomeUnknown, ErrOutcomeUnknown},
		{ErrBusy, ErrBusy},
		{ErrShutdown, ErrNoLeader},
		{ErrUnknownServer, ErrUnknownServer},
		{ErrAutopilotDisabled, ErrAutopilotDisabled},
		{fmt.Errorf("%w: node_id is required", ErrInvalid), ErrInvalid},
		{errors.New("disk on fire"), nil},
	} {
		rec := httptest.NewRecorder()
		internalError(rec, tc.err)
		for name, got := range map[string]error{
			"rpc":  decodeErrorAnswer(errorAnswer(tc.err)),
			"http": errorFromWire(rec.Code, rec.Body.Bytes()),
		} {
			if tc.want != nil && !errors.Is(got, tc.want) {
				t.Errorf("%s: %v came back as %v, want %v", name, tc.err, got, tc.want)
			}
			if tc.want == nil && Code(got) != "" {
				t.Errorf("%s: %v came back as a node error: %v", name, tc.err, got)
			}
			if !strings.Contains(got.Error(), tc.err.Error()) {
				t.Errorf("%s: %v came back as %q, want the peer's message in it", name, tc.err, got)
			}
		}
	}
}
