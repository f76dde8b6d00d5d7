package proc

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestModuleRoot(t *testing.T) {
	root, err := ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "internal", "proc", "build.go")); err != nil {
		t.Fatalf("module root %s does not hold this package: %v", root, err)
	}
}

// Build compiles a command of the module that runs, and says clearly when one does not exist.
func TestBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a command")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	dir := t.TempDir()
	bins, err := Build(ctx, dir, nil, "cellmapctl")
	if err != nil {
		t.Fatal(err)
	}
	if len(bins) != 1 || bins[0] != filepath.Join(dir, "cellmapctl") {
		t.Fatalf("bins %v", bins)
	}
	p, err := Start(Spec{Argv: []string{bins[0], "--help"}})
	if err != nil {
		t.Fatal(err)
	}
	if !p.Wait(ctx, time.Minute) {
		t.Fatal("cellmapctl --help did not exit")
	}
	if _, err := Build(ctx, dir, nil, "no-such-command"); !errors.Is(err, ErrBuild) {
		t.Fatalf("missing command: %v, want ErrBuild", err)
	}
}
