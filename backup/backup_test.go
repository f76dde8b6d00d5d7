package backup

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/hashicorp/raft"
	bolt "go.etcd.io/bbolt"
)

// stateWithCells returns an FSM that applied a cell0 mapping and n cells and flavors.
func stateWithCells(t *testing.T, n int) *fsm.FSM {
	t.Helper()
	cfg := fsm.DefaultConfig(filepath.Join(t.TempDir(), "fsm.db"))
	cfg.InitialMmapSize = 1 << 20
	f, err := fsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	now := time.Date(2026, 12, 5, 6, 0, 0, 0, time.UTC)
	cmds := []fsm.Command{&fsm.MapCell0{DatabaseConnection: "sqlite:///cell0"}}
	for i := range n {
		cmds = append(cmds,
			&fsm.CreateCell{Cell: fsm.Cell{UUID: fmt.Sprintf("00000000-0000-4000-8000-%012d", i+1), Name: fmt.Sprintf("cell%d", i+1),
				TransportURL: fmt.Sprintf("rabbit://mq%d/", i+1), DatabaseConnection: fmt.Sprintf("mysql://db%d/nova", i+1)}},
			&fsm.PutFlavor{Flavor: fsm.Flavor{ID: fmt.Sprintf("f%d", i), Name: fmt.Sprintf("m%d", i), VCPUs: 1, RAMMB: 512, DiskGB: 1}})
	}
	for i, c := range cmds {
		res := f.Apply(&raft.Log{Index: uint64(i + 1), Term: 1, Type: raft.LogCommand, Data: fsm.Encode(c, now)}).(*fsm.Result)
		if res.Err != nil {
			t.Fatalf("apply %s: %v", c.Type(), res.Err)
		}
	}
	return f
}

// encode writes a backup of f's current state.
func encode(t *testing.T, f *fsm.FSM) ([]byte, *Header) {
	t.Helper()
	var buf bytes.Buffer
	var h *Header
	err := f.View(func(r *fsm.Reader) error {
		h = &Header{RaftIndex: r.AppliedIndex(), RaftTerm: 3, FSMChecksum: r.Checksum(), StateSize: r.Size(),
			Created: time.Date(2026, 12, 5, 6, 30, 0, 0, time.UTC), NodeID: "n1"}
		return Write(&buf, h, r)
	})
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), h
}

func TestWriteExtractRoundTrip(t *testing.T) {
	f := stateWithCells(t, 3)
	data, h := encode(t, f)
	ex, err := Extract(bytes.NewReader(data), t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	defer ex.Remove()
	if ex.Header != *h {
		t.Fatalf("header: got %+v, want %+v", ex.Header, *h)
	}
	_, sum, _ := f.Checksum()
	if ex.Header.FSMChecksum != sum || ex.Summary.Checksum != sum || ex.Header.RaftIndex != 7 {
		t.Fatalf("got index %d checksum %s/%s, want 7 and %s", ex.Header.RaftIndex, ex.Header.FSMChecksum, ex.Summary.Checksum, sum)
	}
	counts := map[string]int{}
	for _, c := range ex.Summary.Records {
		counts[c.Kind] = c.Count
	}
	if counts["cell"] != 4 || counts["flavor"] != 3 || counts["instance_mapping"] != 0 {
		t.Fatalf("records: %+v", ex.Summary.Records)
	}
	if _, ok := counts["build_request"]; !ok {
		t.Fatalf("an empty table is not listed: %+v", ex.Summary.Records)
	}
	// Written again, the backup is the same bytes.
	var again bytes.Buffer
	if err := ex.WriteBackup(&again); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(again.Bytes(), data) {
		t.Fatal("WriteBackup does not reproduce the backup")
	}
}

// TestExtractRefusesDamage: every kind of damage is refused with ErrCorrupt and a message
// naming it, and leaves no state file behind.
func TestExtractRefusesDamage(t *testing.T) {
	good, h := encode(t, stateWithCells(t, 2))
	bodyStart := prefixLen + headerLen(t, good)
	flip := func(at int) []byte {
		b := bytes.Clone(good)
		b[at] ^= 0x40
		return b
	}
	// A backup whose hash is right but whose header lies about the state.
	lying := func(edit func(*Header)) []byte {
		ex, err := Extract(bytes.NewReader(good), t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		defer ex.Remove()
		hh := *h
		edit(&hh)
		var buf bytes.Buffer
		if err := Write(&buf, &hh, stateFile(ex.Path)); err != nil {
			t.Fatal(err)
		}
		return buf.Bytes()
	}
	newer := bytes.Clone(good)
	newer[len(magic)+1] = FormatVersion + 1
	cases := []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty"},
		{"not a backup", []byte("SQLite format 3\x00 and more bytes"), "not a cellmap backup"},
		{"short and not a backup", []byte("garbage\n"), "not a cellmap backup"},
		{"truncated in the prefix", good[:5], "shorter than a backup's prefix"},
		{"truncated in the header", good[:prefixLen+3], "inside the header"},
		{"truncated in the state", good[:bodyStart+100], "the state ends after 100 of"},
		{"truncated at the end of the state", good[:len(good)-trailerLen], "0 of the 32 bytes of the trailing hash"},
		{"truncated in the trailer", good[:len(good)-1], "31 of the 32 bytes"},
		{"extra bytes", append(bytes.Clone(good), 0), "bytes after the trailing hash"},
		{"newer format", newer, "newer than this release reads"},
		{"header byte flipped", flip(prefixLen + 2), ""},
		{"state byte flipped", flip(bodyStart + 5000), "SHA-256 mismatch"},
		{"trailer byte flipped", flip(len(good) - 3), "SHA-256 mismatch"},
		{"header lies about the checksum", lying(func(h *Header) { h.FSMChecksum = "0123456789abcdef" }), "the header says 0123456789abcdef"},
		{"header lies about the index", lying(func(h *Header) { h.RaftIndex++ }), "applied index"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			_, err := Extract(bytes.NewReader(c.data), dir)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("got %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Fatalf("error %q does not say %q", err, c.want)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Fatalf("left %d files behind", len(left))
			}
		})
	}
}

// TestExtractRefusesDamagedState: a state whose pages were changed (and the hash computed
// again, so only the state check can see it) is refused.
func TestExtractRefusesDamagedState(t *testing.T) {
	good, h := encode(t, stateWithCells(t, 40))
	bodyStart := prefixLen + headerLen(t, good)
	state := bytes.Clone(good[bodyStart : len(good)-trailerLen])
	// Zero a page that holds records (a leaf: a free page in the middle would change nothing
	// the check can see; bbolt pages are 4 KiB here).
	page := int(leafPage(t, state)) * 4096
	clear(state[page : page+4096])
	var buf bytes.Buffer
	hh := *h
	if err := Write(&buf, &hh, bytes.NewReader(state)); err != nil {
		t.Fatal(err)
	}
	_, err := Extract(&buf, t.TempDir())
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("got %v, want ErrCorrupt naming the damage", err)
	}
}

// leafPage returns the id of a leaf page in use in a bbolt file's image.
func leafPage(t *testing.T, image []byte) uint64 {
	t.Helper()
	path := filepath.Join(t.TempDir(), "state.db")
	if err := os.WriteFile(path, image, 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := bolt.Open(path, 0o600, nil) // a copy: read-only would not load the freelist Page needs
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var id uint64
	err = db.View(func(tx *bolt.Tx) error {
		for p := uint64(2); p < uint64(tx.Size())/4096; p++ {
			if info, err := tx.Page(int(p)); err == nil && info != nil && info.Type == "leaf" {
				id = p
			}
		}
		return nil
	})
	if err != nil || id == 0 {
		t.Fatalf("no leaf page in the state (%v)", err)
	}
	return id
}

func headerLen(t *testing.T, data []byte) int {
	t.Helper()
	return int(uint32(data[len(magic)+2])<<24 | uint32(data[len(magic)+3])<<16 | uint32(data[len(magic)+4])<<8 | uint32(data[len(magic)+5]))
}

func TestWriteRefusesWrongSize(t *testing.T) {
	f := stateWithCells(t, 1)
	err := f.View(func(r *fsm.Reader) error {
		h := &Header{RaftIndex: r.AppliedIndex(), FSMChecksum: r.Checksum(), StateSize: r.Size() + 1}
		return Write(&bytes.Buffer{}, h, r)
	})
	if err == nil || !strings.Contains(err.Error(), "the header says") {
		t.Fatalf("got %v, want a size mismatch", err)
	}
}

func TestWriteFile(t *testing.T) {
	good, h := encode(t, stateWithCells(t, 2))
	dir := t.TempDir()
	path := filepath.Join(dir, "b.backup")
	info, err := WriteFile(path, func(w io.Writer) error { _, err := w.Write(good); return err })
	if err != nil {
		t.Fatal(err)
	}
	if info.Header != *h {
		t.Fatalf("header %+v, want %+v", info.Header, *h)
	}
	if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
		t.Fatal("the file is not the backup")
	}
	if v, err := Verify(path); err != nil || v.Header != *h {
		t.Fatalf("verify: %v %+v", err, v)
	}
	assertOnly(t, dir, "b.backup")

	// A damaged stream is refused: nothing is left, the existing file is kept.
	bad := bytes.Clone(good)
	bad[len(bad)/2] ^= 1
	if _, err := WriteFile(path, func(w io.Writer) error { _, err := w.Write(bad); return err }); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("got %v, want ErrCorrupt", err)
	}
	assertOnly(t, dir, "b.backup")
	if got, _ := os.ReadFile(path); !bytes.Equal(got, good) {
		t.Fatal("a refused backup changed the existing file")
	}

	// fill's own failure is returned as it is, and nothing is left.
	boom := errors.New("connection reset")
	other := filepath.Join(dir, "c.backup")
	_, err = WriteFile(other, func(w io.Writer) error { w.Write(good[:100]); return boom })
	if !errors.Is(err, boom) {
		t.Fatalf("got %v, want %v", err, boom)
	}
	assertOnly(t, dir, "b.backup")
}

// assertOnly fails unless dir holds exactly the files names.
func assertOnly(t *testing.T, dir string, names ...string) {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ents {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(names, ",") {
		t.Fatalf("%s holds %q, want %q", dir, got, names)
	}
}
