package version

import (
	"runtime/debug"
	"testing"
)

func TestFormat(t *testing.T) {
	t.Parallel()
	rev := "812848b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6"
	tests := []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"no version, no vcs", debug.BuildInfo{}, "(devel)"},
		{"tagged", debug.BuildInfo{Main: debug.Module{Version: "v1.2.3"}}, "v1.2.3"},
		{"revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.revision", Value: rev}, {Key: "vcs.modified", Value: "false"}}}, "(devel) 812848b0c1d2"},
		{"dirty", debug.BuildInfo{Main: debug.Module{Version: "(devel)"},
			Settings: []debug.BuildSetting{{Key: "vcs.modified", Value: "true"}, {Key: "vcs.revision", Value: rev}}}, "(devel) 812848b0c1d2-dirty"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := format(&tc.bi); got != tc.want {
				t.Fatalf("got %q, want %q", got, tc.want)
			}
		})
	}
}
