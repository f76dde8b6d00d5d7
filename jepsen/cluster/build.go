// Package cluster runs cellmapd nodes of a chaos test, each inside its own network namespace
// (see package netns): it builds the server, starts, kills, pauses and restarts node
// processes in their own process groups, asks nodes for their status and waits for the
// cluster to form and to converge.
package cluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

// ErrBuild: the server could not be built.
var ErrBuild = errors.New("cluster: build failed")

// buildTimeout bounds one go build.
const buildTimeout = 5 * time.Minute

// UnsafeReadsTag is the build tag of the deliberately broken read mode (reads skip the
// leadership check); the harness must catch it.
const UnsafeReadsTag = "cellmap_unsafe_reads"

// Build compiles cellmapd into dir and returns the binary's path. unsafeReads builds the
// broken read mode. The module root is found with `go env GOMOD` from the working directory
// (or moduleRoot when set).
func Build(ctx context.Context, dir, moduleRoot string, unsafeReads bool) (string, error) {
	var tags []string
	if unsafeReads {
		tags = append(tags, UnsafeReadsTag)
	}
	return BuildCommand(ctx, dir, moduleRoot, "cellmapd", tags...)
}

// BuildCommand compiles the module's ./cmd/<name> (e.g. "cellconductor") into dir/<name> with
// the build tags and returns the binary's path; moduleRoot as for [Build].
func BuildCommand(ctx context.Context, dir, moduleRoot, name string, tags ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	goBin := goCommand()
	if moduleRoot == "" {
		out, err := exec.CommandContext(ctx, goBin, "env", "GOMOD").Output()
		gomod := string(bytes.TrimSpace(out))
		if err != nil || gomod == "" || gomod == os.DevNull {
			return "", fmt.Errorf("%w: not inside the cellmap module (go env GOMOD: %q, %v); run from the repository or pass the server binary", ErrBuild, gomod, err)
		}
		moduleRoot = filepath.Dir(gomod)
	}
	bin := filepath.Join(dir, name)
	args := []string{"build", "-o", bin}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	args = append(args, "./cmd/"+name)
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = moduleRoot
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("%w: go %v: %v\n%s", ErrBuild, args, err, out)
	}
	return bin, nil
}

// goCommand finds the go tool (root's PATH may lack /usr/local/go/bin).
func goCommand() string {
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	for _, p := range []string{"/usr/local/go/bin/go", "/usr/lib/go/bin/go"} {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	return "go"
}
