// Package logflags holds the logging flags every cellmap command shares (--log-level,
// --log-format) and builds the command's root logger from them.
package logflags

import (
	"flag"
	"fmt"
	"io"

	"github.com/hashicorp/go-hclog"
)

// Log formats.
const (
	FormatText = "text"
	FormatJSON = "json"
)

// Flags are the logging flags.
type Flags struct {
	// Level is trace, debug, info, warn or error.
	Level string
	// Format is text (hclog's human format) or json (one JSON object per line: @timestamp,
	// @level, @module, @message and the line's fields, e.g. request_id).
	Format string
}

// Register defines --log-level and --log-format on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	fs.StringVar(&f.Level, "log-level", "info", "trace, debug, info, warn or error")
	fs.StringVar(&f.Format, "log-format", FormatText, "text or json (one JSON object per line)")
}

// New returns the root logger called name writing to out, or an error naming the flag
// whose value is not one of its choices.
func (f *Flags) New(name string, out io.Writer) (hclog.Logger, error) {
	level := hclog.LevelFromString(f.Level)
	if level == hclog.NoLevel {
		return nil, fmt.Errorf("--log-level %q: want trace, debug, info, warn or error", f.Level)
	}
	if f.Format != FormatText && f.Format != FormatJSON {
		return nil, fmt.Errorf("--log-format %q: want text or json", f.Format)
	}
	return hclog.New(&hclog.LoggerOptions{Name: name, Level: level, Output: out, JSONFormat: f.Format == FormatJSON}), nil
}
