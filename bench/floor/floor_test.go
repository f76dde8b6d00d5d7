package floor

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"github.com/cellmap/cellmap/bench"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// inProcessFloor runs floor nodes as goroutines of the test (their CPU is the test's).
func inProcessFloor(t *testing.T) Launcher {
	return func(args []string, out io.Writer) (int, func(), error) {
		var cfg NodeConfig
		fs := flag.NewFlagSet("node", flag.ContinueOnError)
		NodeFlags(fs, &cfg)
		if err := fs.Parse(args); err != nil {
			return 0, nil, err
		}
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := RunNode(ctx, cfg, out); err != nil {
				t.Errorf("node %s: %v", cfg.ID, err)
			}
		}()
		return os.Getpid(), func() { cancel(); wg.Wait() }, nil
	}
}

// TestRun: three in-process nodes; the leader applies for a second (an apply that fails, as in
// a leadership change on a loaded machine, is counted, not fatal). With the bbolt state
// machine the leader's state file holds at least every acknowledged command (each a fresh
// key); with noop there is no state file.
func TestRun(t *testing.T) {
	for _, fsm := range []string{FSMBbolt, FSMNoop} {
		t.Run(fsm, func(t *testing.T) {
			cfg := DefaultConfig()
			cfg.Dir = t.TempDir()
			cfg.Node.FSM, cfg.Node.Concurrency, cfg.Node.Warmup, cfg.Node.Duration = fsm, 4, 200*time.Millisecond, time.Second
			res, err := Run(t.Context(), cfg, inProcessFloor(t))
			if err != nil {
				t.Fatal(err)
			}
			if res.Ops == 0 || res.Errors >= res.Ops || res.OpsPerSec <= 0 || res.Latency.P99 == 0 || res.CPUPerOpUS <= 0 {
				t.Fatalf("result %+v", res)
			}
			path := filepath.Join(cfg.Dir, res.Leader, "state.db")
			if fsm == FSMNoop {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("noop state machine left %s (%v)", path, err)
				}
				return
			}
			leader := floorKeys(t, path)
			if n := int64(len(leader)); n < res.Ops {
				t.Fatalf("the leader's state holds %d keys, want at least the %d acknowledged", n, res.Ops)
			}
			// A follower may lag the leader, never hold what it does not.
			for i := 1; i <= cfg.Nodes; i++ {
				id := fmt.Sprintf("n%d", i)
				if id == res.Leader {
					continue
				}
				for k := range floorKeys(t, filepath.Join(cfg.Dir, id, "state.db")) {
					if !leader[k] {
						t.Fatalf("follower %s holds key %x, which the leader does not", id, k)
					}
				}
			}
		})
	}
}

// floorKeys returns the keys of a floor node's state file.
func floorKeys(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	keys := map[string]bool{}
	_ = db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(floorBucket).ForEach(func(k, _ []byte) error { keys[string(k)] = true; return nil })
	})
	return keys
}

func TestConfigValidate(t *testing.T) {
	cases := []struct {
		name string
		edit func(*Config)
		want string
	}{
		{"default", func(*Config) {}, ""},
		{"no nodes", func(c *Config) { c.Nodes = 0 }, "a cluster of 0 nodes"},
		{"too many nodes", func(c *Config) { c.Nodes = 9 }, "a cluster of 9 nodes"},
		{"state machine", func(c *Config) { c.Node.FSM = "memory" }, "state machine"},
		{"concurrency", func(c *Config) { c.Node.Concurrency = 0 }, "concurrency"},
		{"command size", func(c *Config) { c.Node.Size = 15 }, "at least 16 bytes"},
		{"duration", func(c *Config) { c.Node.Duration = 0 }, "duration"},
		{"too long", func(c *Config) { c.Node.Duration = bench.MaxDuration }, "duration"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := DefaultConfig()
			tc.edit(&c)
			err := c.Validate()
			if (err == nil) != (tc.want == "") || err != nil && !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Validate() = %v, want %q", err, tc.want)
			}
		})
	}
}

// TestRunStopsChattyNodes: a node that goes on writing lines after the result (as a second
// leader would after a leadership change) must not keep the run from stopping it.
func TestRunStopsChattyNodes(t *testing.T) {
	chatty := func(args []string, out io.Writer) (int, func(), error) {
		ctx, cancel := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			enc := json.NewEncoder(out)
			_ = enc.Encode(floorLine{Event: "start", Node: "n1"})
			for range 50 {
				if enc.Encode(floorLine{Event: "result", Node: "n1", Ops: 1, Seconds: 1}) != nil {
					return
				}
			}
			<-ctx.Done()
		}()
		return os.Getpid(), func() { cancel(); wg.Wait() }, nil
	}
	cfg := DefaultConfig()
	cfg.Dir, cfg.Node.Warmup, cfg.Node.Duration = t.TempDir(), 0, time.Second
	done := make(chan error, 1)
	go func() {
		_, err := Run(t.Context(), cfg, chatty)
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("Run did not return: a node blocked on its output could not be stopped")
	}
}
