package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestParseSnapshotLog(t *testing.T) {
	path := filepath.Join(t.TempDir(), "n1.log")
	log := `2026-11-21T09:22:00.122Z [INFO]  cellmapd.raft: initial configuration: index=0 servers=[]
2026-11-21T09:22:01.000Z [INFO]  cellmapd.raft: starting snapshot up to: index=16390
garbage line
2026-11-21T09:22:03.500Z [INFO]  cellmapd.raft: snapshot complete up to: index=16390
2026-11-21T09:23:00.000Z [INFO]  cellmapd.raft: snapshot complete up to: index=99
`
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	got := parseSnapshotLog("n1", path)
	if len(got) != 1 || got[0].Index != 16390 || got[0].Sec != 2.5 || got[0].Node != "n1" {
		t.Fatalf("parsed %+v", got)
	}
	if n := countLines(path, 0, "snapshot complete"); n != 2 {
		t.Fatalf("countLines = %d", n)
	}
	if n := countLines(path, int64(len(log))-60, "snapshot complete"); n != 1 {
		t.Fatalf("countLines from an offset = %d", n)
	}
	if field("a: index=12 term=3", "index=") != "12" || field("none", "index=") != "" {
		t.Fatal("field")
	}
}

func TestLatestSnapshotIndex(t *testing.T) {
	dir := t.TempDir()
	for _, d := range []string{"2-100-1700000000000", "3-250-1700000000001", "3-900-1700000000002.tmp", "junk"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(dir, "2-100-1700000000000", "state.bin"), make([]byte, 1000), 0o644)
	if got := latestSnapshotIndex(dir); got != 250 {
		t.Fatalf("latest = %d, want 250 (in-progress .tmp ignored)", got)
	}
	if got := latestSnapshotIndex(filepath.Join(dir, "missing")); got != 0 {
		t.Fatalf("missing dir: %d", got)
	}
	if got := dirSize(dir); got != 1000 {
		t.Fatalf("dirSize = %d", got)
	}
}
