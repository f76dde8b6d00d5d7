package proc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// ErrBuild: a command of the cellmap module could not be built.
var ErrBuild = errors.New("proc: build failed")

// Module is the import path of the module whose commands Build compiles.
const Module = "github.com/cellmap/cellmap"

// Build compiles the cellmap commands names (e.g. "cellmapd", "cellconductor": ./cmd/<name>
// of the cellmap module) into dir with the build tags; it returns their paths in order. The
// module is found from the working directory: the cellmap module itself, or a module that
// requires it (the chaos harness's, which replaces it with the checkout it lives in).
func Build(ctx context.Context, dir string, tags []string, names ...string) ([]string, error) {
	root, err := ModuleRoot(ctx)
	if err != nil {
		return nil, err
	}
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	if len(tags) > 0 {
		args = append(args, "-tags", strings.Join(tags, ","))
	}
	var bins []string
	for _, n := range names {
		args = append(args, "./cmd/"+n)
		bins = append(bins, filepath.Join(dir, n))
	}
	cmd := exec.CommandContext(ctx, GoCommand(), args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("%w: go %s: %v\n%s", ErrBuild, strings.Join(args, " "), err, out)
	}
	return bins, nil
}

// ModuleRoot returns the directory of the cellmap module as the working directory's module
// sees it (`go list -m`).
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, GoCommand(), "list", "-m", "-f", "{{.Dir}}", Module).Output()
	dir := string(bytes.TrimSpace(out))
	if err != nil || dir == "" {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(ee.Stderr))
		}
		return "", fmt.Errorf("%w: the cellmap module is not found from the working directory (go list -m %s: %q, %v); run from the repository or pass prebuilt binaries",
			ErrBuild, Module, dir, err)
	}
	return dir, nil
}

// GoCommand finds the go tool (root's PATH may lack /usr/local/go/bin).
func GoCommand() string {
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
