package bench

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestValidate(t *testing.T) {
	ok := DefaultConfig()
	if err := ok.Validate(); err != nil {
		t.Fatalf("default config: %v", err)
	}
	cases := []struct {
		name string
		mod  func(*Config)
		want error
	}{
		{"unknown workload", func(c *Config) { c.Workload = "scan" }, ErrInvalidConfig},
		{"no endpoints", func(c *Config) { c.Endpoints = nil }, ErrInvalidConfig},
		{"remote endpoint", func(c *Config) { c.Endpoints = []string{"10.0.0.1:8480"} }, ErrNotLoopback},
		{"remote host name", func(c *Config) { c.Endpoints = []string{"example.com:80"} }, ErrNotLoopback},
		{"no port", func(c *Config) { c.Endpoints = []string{"127.0.0.1"} }, ErrInvalidConfig},
		{"zero clients", func(c *Config) { c.Concurrency = 0 }, ErrInvalidConfig},
		{"unbounded", func(c *Config) { c.Duration, c.Count = 0, 0 }, ErrInvalidConfig},
		{"past the cap", func(c *Config) { c.Duration = MaxDuration + time.Second }, ErrInvalidConfig},
		{"value too big", func(c *Config) { c.ValueSize = MaxValueSize + 1 }, ErrInvalidConfig},
		{"batch too big", func(c *Config) { c.BatchSize = MaxBatchSize + 1 }, ErrInvalidConfig},
		{"ratio", func(c *Config) { c.WriteRatio = 1.5 }, ErrInvalidConfig},
		{"no keys", func(c *Config) { c.Keys = 0 }, ErrInvalidConfig},
	}
	for _, c := range cases {
		cfg := DefaultConfig()
		c.mod(cfg)
		if err := cfg.Validate(); !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", c.name, err, c.want)
		}
	}
	bulk := DefaultConfig()
	bulk.Workload, bulk.Duration, bulk.Count = WorkloadBulk, 0, 0
	if err := bulk.Validate(); err != nil {
		t.Errorf("bulk defaults its count to the key space: %v", err)
	}
}

func TestCheckLoopback(t *testing.T) {
	for _, e := range []string{"127.0.0.1:1", "http://127.0.0.1:8480/", "localhost:2379", "[::1]:80", "127.3.4.5:9"} {
		if err := CheckLoopback(e); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	for _, e := range []string{"192.168.1.1:80", "0.0.0.0:80", "http://8.8.8.8:53"} {
		if err := CheckLoopback(e); !errors.Is(err, ErrNotLoopback) {
			t.Errorf("%s: %v, want ErrNotLoopback", e, err)
		}
	}
}

func TestProcessCPU(t *testing.T) {
	self := []int{os.Getpid()}
	a, err := ProcessCPU(self)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for x := 0; time.Now().Before(deadline); x++ {
		_ = x * x
	}
	b, err := ProcessCPU(self)
	if err != nil || b < a {
		t.Fatalf("cpu %v then %v (%v)", a, b, err)
	}
	if _, err := ProcessCPU([]int{1 << 30}); err == nil {
		t.Fatal("a missing pid must fail")
	}
	if n, err := ProcessCPU(nil); n != 0 || err != nil {
		t.Fatalf("no pids: %v %v", n, err)
	}
}
