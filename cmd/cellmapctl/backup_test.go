package main

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// The backup commands against one in-process node. Role: every request here (GET
// /v1/operator/backup, POST /v1/operator/restore) needs an admin token once the API checks
// tokens; backup verify and backup inspect need no server.

// checksumOf returns the node's FSM checksum.
func checksumOf(t *testing.T, n *testcluster.Node) string {
	t.Helper()
	st, err := n.Client.ClusterStatus(ctxT(t))
	if err != nil {
		t.Fatal(err)
	}
	return st.FSMChecksum
}

// seed maps cell1 with hosts and instances.
func seed(t *testing.T, n *testcluster.Node, instances int) *api.Cell {
	t.Helper()
	cell := mustCell(t, n, "cell1", "rabbit://mq1/", "mysql://db1/nova")
	mustHost(t, n, "compute1", cell.UUID)
	for i := range instances {
		mustMapping(t, n, fmt.Sprintf("10000000-0000-4000-8000-%012d", i), cell.UUID, false)
	}
	return cell
}

func TestBackupVerifyInspect(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	seed(t, n, 5)
	dir := t.TempDir()
	file := filepath.Join(dir, "cellmap.backup")

	r := ctl(t, n, "backup", file)
	r.want(t, exitOK, "Backup written to "+file, "FSM checksum "+checksumOf(t, n))
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("%d files in the directory, want only the backup", len(ents))
	}
	ctl(t, n, "backup", file).want(t, exitBackupRefused, "exists; nothing was written")
	ctl(t, n, "backup", "--force", file).want(t, exitOK, "Backup written")

	ctl(t, n, "backup", "verify", file).want(t, exitOK, "is a valid backup: raft index ")
	r = ctl(t, n, "backup", "inspect", file)
	r.want(t, exitOK, "FSM checksum", checksumOf(t, n))
	_, records, _ := strings.Cut(r.stdout, "\n\n")
	counts := map[string]string{}
	for _, row := range tableRows(t, records) {
		counts[row[0]] = row[1]
	}
	if counts["cell"] != "1" || counts["host_mapping"] != "1" || counts["instance_mapping"] != "5" || counts["flavor"] != "0" {
		t.Fatalf("record counts: %v\n%s", counts, r.stdout)
	}
	var res backupResult
	decodeJSON(t, ctl(t, n, "--format", "json", "backup", "inspect", file), &res)
	if res.Records["instance_mapping"] != 5 || res.FSMChecksum != checksumOf(t, n) || res.NodeID != "n1" || res.RaftIndex == 0 {
		t.Fatalf("json: %+v", res)
	}

	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	truncated := filepath.Join(dir, "truncated.backup")
	os.WriteFile(truncated, data[:len(data)/2], 0o600)
	ctl(t, n, "backup", "verify", truncated).want(t, exitBackupRefused, "is not a valid backup", "truncated")
	ctl(t, n, "backup", "inspect", truncated).want(t, exitBackupRefused, "truncated")
	ctl(t, n, "backup", "verify", filepath.Join(dir, "missing")).want(t, exitBackupRefused, "no such file")
	ctl(t, n, "backup").want(t, exitUsage)
}

func TestRestoreInProcess(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	cell := seed(t, n, 3)
	dir := t.TempDir()
	file := filepath.Join(dir, "cellmap.backup")
	ctl(t, n, "backup", file).want(t, exitOK)
	want := checksumOf(t, n)

	// Changes after the backup: a new mapping, a removed one.
	mustMapping(t, n, "20000000-0000-4000-8000-000000000001", cell.UUID, false)
	if _, err := n.Client.DeleteInstanceMapping(ctxT(t), "10000000-0000-4000-8000-000000000000", 0); err != nil {
		t.Fatal(err)
	}
	changed := checksumOf(t, n)

	// Damaged files are refused by cellmapctl before anything is sent, and by the node when
	// they are sent anyway; nothing changes.
	data, _ := os.ReadFile(file)
	flipped := bytes.Clone(data)
	flipped[len(flipped)/2] ^= 0xff
	for name, bad := range map[string][]byte{"truncated": data[:len(data)-10], "flipped": flipped, "empty": nil} {
		path := filepath.Join(dir, name)
		os.WriteFile(path, bad, 0o600)
		ctl(t, n, "restore", path).want(t, exitRestoreRefused, "is not a valid backup", "Nothing was sent")
		_, err := n.Client.Restore(ctxT(t), bytes.NewReader(bad))
		var ae *client.Error
		if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Code != api.CodeInvalid || !strings.Contains(ae.Message, "backup is not valid") {
			t.Fatalf("%s: got %v, want 400 invalid", name, err)
		}
		if got := checksumOf(t, n); got != changed {
			t.Fatalf("%s: a refused restore changed the checksum from %s to %s", name, changed, got)
		}
	}

	r := ctl(t, n, "restore", file)
	r.want(t, exitOK, "Restored "+file, "FSM checksum "+want)
	if got := checksumOf(t, n); got != want {
		t.Fatalf("checksum after the restore: %s, want the backup's %s", got, want)
	}
	if _, _, err := n.Client.InstanceMapping(ctxT(t), "20000000-0000-4000-8000-000000000001"); !client.IsNotFound(err) {
		t.Fatalf("a mapping written after the backup: %v, want 404", err)
	}
	if _, _, err := n.Client.InstanceMapping(ctxT(t), "10000000-0000-4000-8000-000000000000"); err != nil {
		t.Fatalf("a mapping deleted after the backup is not back: %v", err)
	}
	// Writes go on after a restore.
	mustMapping(t, n, "20000000-0000-4000-8000-000000000002", cell.UUID, false)
}
