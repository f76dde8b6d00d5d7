package httpapi

import (
	"context"
	"io"
	"net/http"
	"strconv"

	"github.com/gorilla/mux"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/node"
)

// Operator endpoints: backup and restore of the whole state (README, Operations).
//
// permission: admin — every route of this file (GET /v1/operator/backup,
// POST /v1/operator/restore) needs the admin role; the route table declares it.

// Operator is what the operator endpoints need of the node (a *node.Node).
type Operator interface {
	Backup(ctx context.Context, w io.Writer) (*backup.Header, error)
	Restore(ctx context.Context, r io.Reader) (*backup.Header, error)
}

// operatorPrefix is where the operator endpoints live; they are bounded by
// Config.OperatorTimeout instead of RequestTimeout.
const operatorPrefix = "/v1/operator/"

// operatorRoutes registers the operator endpoints when the API has an Operator.
func (s *Service) operatorRoutes(r *mux.Router) {
	if s.cfg.Operator == nil {
		return
	}
	s.handle(r, http.MethodGet, operatorPrefix+"backup", acl.PermAdmin, s.operatorBackup)
	s.handle(r, http.MethodPost, operatorPrefix+"restore", acl.PermAdmin, s.operatorRestore)
}

// longRequest reports whether a request is bounded by OperatorTimeout: backups and restores,
// and a restore a follower forwards to this node.
func longRequest(r *http.Request) bool {
	return r.URL.Path == operatorPrefix+"backup" || r.URL.Path == operatorPrefix+"restore" || r.URL.Path == node.PathRestore
}

// operatorBackup streams a consistent backup (node.Backup: any node, after a linearizable
// barrier). A failure before the first byte is a JSON error; a failure later cuts the
// connection, and the backup, missing its trailing hash, is refused by every reader.
func (s *Service) operatorBackup(w http.ResponseWriter, r *http.Request) {
	sw := &streamWriter{w: w, index: s.node.AppliedIndex()}
	if _, err := s.cfg.Operator.Backup(r.Context(), sw); err != nil {
		if !sw.started {
			s.failErr(w, err)
			return
		}
		s.logger.Warn("backup stream failed after it began; cutting the connection", "error", err)
		panic(http.ErrAbortHandler)
	}
}

// streamWriter sends the headers of a backup stream with its first byte.
type streamWriter struct {
	w       http.ResponseWriter
	index   uint64
	started bool
}

func (sw *streamWriter) Write(p []byte) (int, error) {
	if !sw.started {
		sw.started = true
		sw.w.Header().Set("Content-Type", "application/octet-stream")
		sw.w.Header().Set(api.HeaderIndex, strconv.FormatUint(sw.index, 10))
		sw.w.WriteHeader(http.StatusOK)
	}
	return sw.w.Write(p)
}

// operatorRestore replaces the cluster's state with the backup in the body (node.Restore).
// A damaged, truncated or foreign backup is refused with 400 invalid and changes nothing;
// one larger than RestoreMaxBytes with 413.
func (s *Service) operatorRestore(w http.ResponseWriter, r *http.Request) {
	body := http.MaxBytesReader(w, r.Body, s.cfg.RestoreMaxBytes)
	h, err := s.cfg.Operator.Restore(r.Context(), body)
	if err != nil {
		// Read what the client still sends, so that it reads the answer instead of a reset.
		io.Copy(io.Discard, body)
		s.failErr(w, err)
		return
	}
	s.reply(w, http.StatusOK, s.node.AppliedIndex(), api.BackupHeader{FormatVersion: h.FormatVersion, RaftIndex: h.RaftIndex,
		RaftTerm: h.RaftTerm, FSMChecksum: h.FSMChecksum, StateSize: h.StateSize, Created: h.Created, NodeID: h.NodeID})
}
