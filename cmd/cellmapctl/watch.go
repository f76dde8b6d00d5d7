package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/client"
)

// watch exit codes.
const (
	// exitWatchCompacted: the history after --since is gone (410 compacted, or a compacted
	// line when the watcher fell behind): list again and watch from the listing's index.
	exitWatchCompacted = 1
	// exitWatchEnded: the node closed the stream (it shut down, or the connection broke).
	exitWatchEnded = 3
)

// forever stands for "no time bound": watch runs until interrupted unless --duration is set.
const forever = 100 * 365 * 24 * time.Hour

// watchOptions are the options of watch.
type watchOptions struct {
	kinds, since, project, cell string
	duration                    time.Duration
	sinceRev                    uint64
	sinceGiven                  bool
}

// watchCommand is the dispatch entry of watch.
func watchCommand() command {
	return command{name: "watch", summary: "Print the change stream (GET /v1/watch) one event per line until interrupted " +
		"(reader): REVISION[.SUB] OP KIND KEY and the record's main fields; --format json prints the stream's ndjson lines as " +
		"they come, progress lines included. --timeout does not bound it; --duration does.",
		exits: "  0 interrupted (SIGINT, SIGTERM) or --duration passed\n" +
			"  1 the history after --since is compacted (list again, watch from the listing's index)\n" +
			"  3 the node closed the stream (resume with --since, printed on stderr)\n" +
			"  255 refused (401 no or bad token, 403 another project than the token's, 400 bad option) or unreachable\n",
		new: func() options { return &watchOptions{} }}
}

// addFlags defines the options of watch.
func (o *watchOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.kinds, "kinds", "", "comma list of `KINDS` to follow: cells, flavors, host_mappings, instance_mappings (default all)")
	f.fs.StringVar(&o.since, "since", "", "print every change after `REVISION` first (default: from now)")
	f.fs.StringVar(&o.project, "project", "", "only the instance mappings of project `ID`")
	f.fs.StringVar(&o.cell, "cell", "", "only cell `UUID`, its host and instance mappings")
	f.fs.DurationVar(&o.duration, "duration", 0, "stop (exit 0) after `DURATION` (default: until interrupted)")
}

// validate checks the options that need no server.
func (o *watchOptions) validate([]string) error {
	if o.since != "" {
		n, err := strconv.ParseUint(o.since, 10, 64)
		if err != nil {
			return usagef("--since must be a revision (a non-negative integer), not %q", o.since)
		}
		o.sinceRev, o.sinceGiven = n, true
	}
	if o.cell != "" && !validate.IsUUID(o.cell) {
		return usagef("--cell must be a cell uuid, not %q", o.cell)
	}
	if o.duration < 0 {
		return usagef("--duration must not be negative")
	}
	return nil
}

// extraTime lifts --timeout's bound: a watch runs until interrupted or --duration.
func (o *watchOptions) extraTime() time.Duration {
	if o.duration > 0 {
		return o.duration
	}
	return forever
}

// run prints the stream until it ends.
func (o *watchOptions) run(ctx context.Context, e *env, _ []string) int {
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	if o.duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.duration)
		defer cancel()
	}
	q := client.WatchQuery{Since: o.sinceRev, SinceGiven: o.sinceGiven, ProjectID: o.project, CellUUID: o.cell}
	if o.kinds != "" {
		q.Kinds = strings.Split(o.kinds, ",")
	}
	// resume is the revision every change up to which was printed: a progress line's, or the
	// one before the last event's (the rest of its transaction may not have come).
	resume := o.sinceRev
	err := e.client.Watch(ctx, q, nil, func(ev *api.WatchEvent) error {
		if ev.Type == api.WatchTypeProgress {
			resume = max(resume, ev.Revision)
		} else if ev.Revision > 0 {
			resume = max(resume, ev.Revision-1)
		}
		if e.jsonOutput() {
			b, err := json.Marshal(ev)
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(e.stdout, "%s\n", b)
			return err
		}
		if ev.Type != api.WatchTypeEvent {
			return nil
		}
		_, err := fmt.Fprintln(e.stdout, eventLine(ev))
		return err
	})
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return exitOK
	}
	var se *client.StreamError
	if errors.As(err, &se) && e.jsonOutput() {
		if b, err := json.Marshal(se.Event); err == nil {
			fmt.Fprintf(e.stdout, "%s\n", b) // the final line, as the stream sent it
		}
	}
	if from, ok := client.IsCompacted(err); ok {
		fmt.Fprintf(e.stderr, "The history after revision %d is compacted: this node serves --since %d or later. "+
			"List again and watch from the listing's index.\n", resume, from)
		return exitWatchCompacted
	}
	if errors.Is(err, client.ErrStreamEnded) || se != nil {
		fmt.Fprintf(e.stderr, "The change stream ended (%v); resume with --since %d.\n", err, resume)
		return exitWatchEnded
	}
	return e.fail(err)
}

// eventLine is the text form of an event: revision[.sub], op, kind, key, main fields.
func eventLine(ev *api.WatchEvent) string {
	rev := strconv.FormatUint(ev.Revision, 10)
	if ev.Sub > 0 {
		rev += "." + strconv.FormatUint(uint64(ev.Sub), 10)
	}
	return fmt.Sprintf("%-10s %-6s %-17s %s  %s", rev, ev.Op, ev.Kind, ev.Key, recordFields(ev.Kind, ev.Record))
}

// recordFields summarizes a record of the stream (the raw JSON for a kind this command does
// not know).
func recordFields(kind string, raw json.RawMessage) string {
	var (
		out string
		err error
	)
	switch kind {
	case api.KindInstanceMappings:
		var m api.InstanceMapping
		if err = json.Unmarshal(raw, &m); err == nil {
			cell := "None"
			if m.CellUUID != nil {
				cell = *m.CellUUID
			}
			out = fmt.Sprintf("project=%s cell=%s", m.ProjectID, cell)
			if m.QueuedForDelete {
				out += " queued_for_delete=True"
			}
		}
	case api.KindHostMappings:
		var h api.HostMapping
		if err = json.Unmarshal(raw, &h); err == nil {
			out = "cell=" + h.CellUUID
		}
	case api.KindCells:
		var c api.Cell
		if err = json.Unmarshal(raw, &c); err == nil {
			out = fmt.Sprintf("name=%s disabled=%s", c.Name, pyBool(c.Disabled))
		}
	case api.KindFlavors:
		var f api.Flavor
		if err = json.Unmarshal(raw, &f); err == nil {
			out = fmt.Sprintf("name=%s vcpus=%d ram_mb=%d disk_gb=%d", f.Name, f.VCPUs, f.RAMMB, f.DiskGB)
		}
	default:
		return string(raw)
	}
	if err != nil {
		return string(raw)
	}
	return out
}
