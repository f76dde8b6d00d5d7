package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// Target is a system under test. Every operation takes the index of the client (worker) that
// runs it, so a target can spread clients over its endpoints (worker w uses endpoint w mod n)
// and keep per-client state. Methods are called concurrently by different workers.
type Target interface {
	// Name identifies the target in reports ("cellmap", "etcd").
	Name() string
	// Setup prepares the target once before a run (e.g. the cell mappings point at).
	Setup(ctx context.Context) error
	// Check reports whether the target offers a workload: ErrUnsupported (wrapped, with a
	// reason) makes the run a skip.
	Check(ctx context.Context, workload string) error
	// Lookup reads a key linearizably and returns its revision.
	Lookup(ctx context.Context, w int, key string) (uint64, error)
	// LookupStale reads a key from the answering node's local state (etcd: serializable).
	LookupStale(ctx context.Context, w int, key string) (uint64, error)
	// Create writes a new key; ErrConflict when it exists (where the target checks that).
	Create(ctx context.Context, w int, m Mapping) (uint64, error)
	// Put writes a key unconditionally and returns its new revision.
	Put(ctx context.Context, w int, m Mapping) (uint64, error)
	// CAS writes a key only if its revision is still rev (rev 0: read it first) and returns
	// the new revision; on ErrConflict it returns the current revision when it knows it.
	CAS(ctx context.Context, w int, m Mapping, rev uint64) (uint64, error)
	// Bulk writes a batch atomically and returns the revision of the write.
	Bulk(ctx context.Context, w int, batch []Mapping) (uint64, error)
	// List reads one page of at most limit items of the target's listing, of one project
	// ("": all), and returns the number of items.
	List(ctx context.Context, w int, project string, limit int) (int, error)
	// Close releases connections.
	Close() error
}

// Mapping is what the benchmark writes: an instance mapping.
type Mapping struct {
	Key       string // instance uuid
	CellUUID  string
	ProjectID string
	UserID    string
}

// BenchCellUUID is the cell every benchmark mapping points at.
const BenchCellUUID = "cbe0c000-0000-4000-8000-00000000bec0"

// keyspacePrefix is the first uuid group of the preloaded key space.
const keyspacePrefix = 0xbe0c0000

// Key returns the uuid of key i of the preloaded key space.
func Key(i int) string { return uuidOf(keyspacePrefix, uint64(i)) }

// uuidOf builds a canonical version-4-shaped uuid from a 32-bit prefix and a 48-bit counter.
func uuidOf(prefix uint32, i uint64) string {
	return fmt.Sprintf("%08x-0000-4000-8000-%012x", prefix, i&(1<<48-1))
}

// NewMapping returns the mapping of key with a user_id of valueSize bytes.
func NewMapping(key string, i int, valueSize int) Mapping {
	user := fmt.Sprintf("u%d-", i)
	if len(user) < valueSize {
		user += strings.Repeat("x", valueSize-len(user))
	}
	return Mapping{Key: key, CellUUID: BenchCellUUID, ProjectID: fmt.Sprintf("bench-project-%d", i%100), UserID: user[:valueSize]}
}

// Error kinds of a report. Conflicts are counted apart: they are correct answers.
const (
	KindConflict       = "conflict"
	KindNotFound       = "not_found"
	KindTimeout        = "timeout"
	KindCanceled       = "canceled"
	KindUnavailable    = "unavailable"
	KindOutcomeUnknown = "outcome_unknown"
	KindTransport      = "transport"
	KindClient         = "client_error"
	KindServer         = "server_error"
	KindOther          = "other"
)

// KindError is an error a target has classified.
type KindError struct {
	Kind string
	Err  error
}

func (e *KindError) Error() string { return e.Kind + ": " + e.Err.Error() }
func (e *KindError) Unwrap() error { return e.Err }

// WithKind classifies err.
func WithKind(kind string, err error) error {
	if err == nil {
		return nil
	}
	return &KindError{Kind: kind, Err: err}
}

// Classify returns the report kind of err ("" for nil).
func Classify(err error) string {
	if err == nil {
		return ""
	}
	var ke *KindError
	switch {
	case errors.Is(err, ErrConflict):
		return KindConflict
	case errors.Is(err, ErrNotFound):
		return KindNotFound
	case errors.As(err, &ke):
		return ke.Kind
	case errors.Is(err, context.DeadlineExceeded):
		return KindTimeout
	case errors.Is(err, context.Canceled):
		return KindCanceled
	}
	return KindOther
}
