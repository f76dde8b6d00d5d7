package main

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// TestImages: image create, list and delete (operator and admin; a reader's create is exit 1
// and changes nothing), a duplicate and a bad format exit 1.
func TestImages(t *testing.T) {
	t.Parallel()
	n := testcluster.StartNode(t, nil)
	admin := map[string]string{"CELLMAP_TOKEN": testkit.AdminToken}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reader, err := n.Client.CreateToken(ctx, api.TokenCreate{Description: "ro", Role: "reader"})
	if err != nil {
		t.Fatal(err)
	}
	ctlEnv(t, n, admin, "image", "create", "--id", "cirros-id", "--name", "cirros", "--min-disk", "1").want(t, exitOK, "cirros-id", "qcow2")
	ctlEnv(t, n, admin, "image", "create", "--id", "cirros-id", "--name", "again").wantExact(t, exitImageFailed, "Image cirros-id already exists.\n")
	ctlEnv(t, n, admin, "image", "create", "--name", "x", "--disk-format", "floppy").want(t, exitImageFailed, "Invalid image")
	ctlEnv(t, n, map[string]string{"CELLMAP_TOKEN": reader.Secret}, "image", "create", "--name", "ro").want(t, exitImageFailed, "Refused")
	r := ctlEnv(t, n, admin, "image", "list")
	r.want(t, exitOK)
	if got, want := tableRows(t, r.stdout), [][]string{{"cirros-id", "cirros", "qcow2", "bare"}}; !reflect.DeepEqual(got, want) {
		t.Fatalf("list: got %q, want %q", got, want)
	}
	ctlEnv(t, n, admin, "image", "delete", "cirros-id").wantExact(t, exitOK, "Image cirros-id deleted.\n")
	ctlEnv(t, n, admin, "image", "delete", "cirros-id").wantExact(t, exitImageFailed, "Image cirros-id not found.\n")
}
