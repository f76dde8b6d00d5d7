package logflags

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestNew(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
		json    bool
	}{
		{nil, "", false},
		{[]string{"--log-format", "json", "--log-level", "debug"}, "", true},
		{[]string{"--log-format", "text"}, "", false},
		{[]string{"--log-format", "xml"}, "--log-format", false},
		{[]string{"--log-level", "loud"}, "--log-level", false},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var f Flags
			fs := flag.NewFlagSet("x", flag.ContinueOnError)
			fs.SetOutput(io.Discard)
			f.Register(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			l, err := f.New("test", &out)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error naming %s", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			l.Info("hello", "request_id", "r1")
			var line map[string]any
			isJSON := json.Unmarshal(out.Bytes(), &line) == nil
			if isJSON != tc.json || (tc.json && (line["request_id"] != "r1" || line["@message"] != "hello" || line["@module"] != "test")) {
				t.Fatalf("output %q (json %v)", out.String(), tc.json)
			}
		})
	}
}
