package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// catchupChunk is the number of writes between two checks of the leader's snapshots.
const catchupChunk = 5000

// catchup stops a follower, writes until the leader has taken a snapshot and compacted its log
// past that follower (more than TrailingLogs entries later), restarts the follower and times
// until its state equals the leader's. The follower can only catch up by installing the
// leader's snapshot.
func (s *scaleRun) catchup(ctx context.Context) error {
	if err := WaitSecureCluster(ctx, s.lc.endpoints(), s.cfg.Nodes, 60*time.Second, &Security{TokenFile: s.lc.tokenFile}); err != nil {
		return err
	}
	l, f := s.pick(ctx, true), s.pick(ctx, false)
	if l == nil || f == nil {
		return ErrNotReady
	}
	base, err := appliedIndex(ctx, l)
	if err != nil {
		return err
	}
	f.p.kill() // a crash: the follower gets no chance to flush anything
	c := Catchup{Node: f.id, BehindFrom: base}
	var others []string
	for _, nd := range s.lc.nodes {
		if nd != f {
			others = append(others, nd.http)
		}
	}
	t0 := time.Now()
	if err := s.writeUntilCompacted(ctx, l, others, base+s.cfg.TrailingLogs+64, &c); err != nil {
		s.rep.Catchup = &c
		return err
	}
	c.WriteSec = time.Since(t0).Seconds()
	logOffset := fileSize(f.dir + ".log")
	t1 := time.Now()
	if err := s.lc.start(f); err != nil {
		return err
	}
	err = s.waitConverged(ctx, []*localNode{f}, 5*time.Minute)
	c.InstallSec = time.Since(t1).Seconds()
	c.Installed = countLines(f.dir+".log", logOffset, "Installed remote snapshot")
	c.FollowerSnapshotBytes = dirSize(filepath.Join(f.dir, "snapshots"))
	s.rep.Catchup = &c
	if err != nil {
		return fmt.Errorf("%s did not catch up: %w", f.id, err)
	}
	return nil
}

// writeUntilCompacted writes new mappings through others until the leader holds a snapshot
// above target (so its log no longer reaches back to the stopped follower).
func (s *scaleRun) writeUntilCompacted(ctx context.Context, l *localNode, others []string, target uint64, c *Catchup) error {
	deadline := time.Now().Add(8 * time.Minute)
	for time.Now().Before(deadline) {
		snap := latestSnapshotIndex(filepath.Join(l.dir, "snapshots"))
		if snap > target {
			c.SnapshotIndex = snap
			return nil
		}
		if c.Writes >= int64(s.cfg.MaxCatchupWrites) {
			return errCatchupBound
		}
		last, err := appliedIndex(ctx, l)
		if err == nil && last > target && last-snap > s.cfg.SnapshotThreshold {
			// A snapshot is due at raft's next check (every 30-60 s with the lan profile).
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(500 * time.Millisecond):
			}
			continue
		}
		cfg := s.runConfig(WorkloadCreate, others)
		cfg.Count, cfg.Concurrency, cfg.OpTimeout = catchupChunk, s.cfg.CatchupConcurrency, 10*time.Second
		res, err := runMeasured(ctx, cfg, NewCellmapTarget(others, s.lc.token), newRevisions(1))
		if err != nil {
			return err
		}
		c.Writes += res.Ops
		c.WriteErrors += res.ErrorCount()
		c.WritesPerSec = append(c.WritesPerSec, res.OpsPerSec)
		if res.Ops == 0 {
			return fmt.Errorf("no write succeeded (errors %v, e.g. %v)", res.Errors, res.ErrorSamples)
		}
	}
	return fmt.Errorf("%w (deadline)", errCatchupBound)
}

// latestSnapshotIndex is the highest index of the complete snapshots in dir (names
// TERM-INDEX-MILLIS; ".tmp" ones are in progress).
func latestSnapshotIndex(dir string) uint64 {
	ents, _ := os.ReadDir(dir)
	var best uint64
	for _, e := range ents {
		if !e.IsDir() || strings.HasSuffix(e.Name(), ".tmp") {
			continue
		}
		parts := strings.Split(e.Name(), "-")
		if len(parts) != 3 {
			continue
		}
		if idx, err := strconv.ParseUint(parts[1], 10, 64); err == nil && idx > best {
			best = idx
		}
	}
	return best
}

// countLines counts the lines of path after offset that contain s.
func countLines(path string, offset int64, s string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	if _, err := f.Seek(offset, 0); err != nil {
		return 0
	}
	n := 0
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if strings.Contains(sc.Text(), s) {
			n++
		}
	}
	return n
}

// logTime layout of hclog's default timestamps.
const logTime = "2006-01-02T15:04:05.000Z0700"

// snapshotTimes reads the nodes' logs for the snapshots raft took ("starting snapshot up to"
// .. "snapshot complete up to", same index) and the snapshots the leader sent ("installing
// snapshot on" .. the follower's "Installed remote snapshot").
func snapshotTimes(lc *localCluster) []SnapshotTaken {
	var out []SnapshotTaken
	for _, nd := range lc.nodes {
		out = append(out, parseSnapshotLog(nd.id, nd.dir+".log")...)
	}
	return out
}

func parseSnapshotLog(node, path string) []SnapshotTaken {
	f, err := os.Open(path)
	if err != nil {
		return nil
	}
	defer f.Close()
	started := map[string]time.Time{}
	var out []SnapshotTaken
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		ts, rest, ok := strings.Cut(line, " ")
		if !ok {
			continue
		}
		t, err := time.Parse(logTime, ts)
		if err != nil {
			continue
		}
		idx := field(rest, "index=")
		switch {
		case strings.Contains(rest, "starting snapshot up to"):
			started[idx] = t
		case strings.Contains(rest, "snapshot complete up to"):
			if t0, ok := started[idx]; ok {
				n, _ := strconv.ParseUint(idx, 10, 64)
				out = append(out, SnapshotTaken{Node: node, Index: n, Sec: t.Sub(t0).Seconds(), At: t})
			}
		}
	}
	return out
}

// field returns the value of key (e.g. "index=") in an hclog line.
func field(line, key string) string {
	_, v, ok := strings.Cut(line, key)
	if !ok {
		return ""
	}
	if i := strings.IndexAny(v, " \t"); i >= 0 {
		v = v[:i]
	}
	return v
}
