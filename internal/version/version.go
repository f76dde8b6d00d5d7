// Package version names the running build: its module version and the VCS revision it was
// built from (from the build information the go command embeds).
package version

import (
	"runtime/debug"
	"strings"
)

// String returns "<module version> <revision>[-dirty]", e.g. "(devel) 812848b0c1d2-dirty"; the
// revision is left out when the binary was built without VCS information (go test, go run
// of a file list), and "unknown" is returned without build information.
func String() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return format(bi)
}

// format builds the version string of bi.
func format(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v == "" {
		v = "(devel)"
	}
	var rev, dirty string
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "-dirty"
			}
		}
	}
	if rev == "" {
		return v
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	return strings.Join([]string{v, rev + dirty}, " ")
}
