package fsm

import (
	"errors"
	"reflect"
	"testing"
	"time"
)

// TestImages: the image catalogue (log version 4): create once, validation, read, delete; the
// commands round-trip through the log codec in the version 4 layout.
func TestImages(t *testing.T) {
	f := newTestFSM(t)
	img := Image{ID: "cirros", Name: "cirros-0.6", DiskFormat: "qcow2", ContainerFormat: "bare", MinDiskGB: 1}
	f.mustApply(&PutImage{Image: img})
	f.wantErr(&PutImage{Image: img}, ErrExists)
	f.wantErr(&PutImage{Image: Image{ID: "", Name: "x", DiskFormat: "raw", ContainerFormat: "bare"}}, ErrInvalid)
	for _, bad := range []Image{{ID: "x", Name: "x", DiskFormat: "floppy", ContainerFormat: "bare"},
		{ID: "x", Name: "x", DiskFormat: "raw", ContainerFormat: "box"}, {ID: "x", DiskFormat: "raw", ContainerFormat: "bare"},
		{ID: "x", Name: "x", DiskFormat: "raw", ContainerFormat: "bare", MinRAMMB: -1}} {
		if err := (&PutImage{Image: bad}).Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%+v: %v, want invalid", bad, err)
		}
	}
	f.read(func(r *Reader) error {
		got, err := r.Image("cirros")
		if err != nil || got.Name != "cirros-0.6" || got.MinDiskGB != 1 || got.Revision == 0 || got.CreatedAt.IsZero() {
			t.Errorf("got %+v %v", got, err)
		}
		all, err := r.Images()
		if err != nil || len(all) != 1 {
			t.Errorf("images %v %v", all, err)
		}
		return nil
	})
	f.mustApply(&DeleteImage{ID: "cirros"})
	f.wantErr(&DeleteImage{ID: "cirros"}, ErrNotFound)

	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	for _, c := range []Command{&PutImage{Image: img}, &DeleteImage{ID: "cirros"}} {
		entry := Encode(c, now)
		if entry[0] != versionedEntry || entry[1] != 4 || Version(c) != 4 {
			t.Fatalf("%s: entry starts %x, want the version 4 header", c.Type(), entry[:2])
		}
		got, _, err := Decode(entry)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("%s: decoded %#v %v", c.Type(), got, err)
		}
	}
}
