package bench

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// Workload names.
const (
	WorkloadLookup      = "lookup"
	WorkloadLookupStale = "lookup-stale"
	WorkloadCreate      = "create"
	WorkloadCAS         = "cas"
	WorkloadMixed       = "mixed"
	WorkloadBulk        = "bulk"
	WorkloadList        = "list"
)

// Workloads lists every workload in report order.
var Workloads = []string{WorkloadLookup, WorkloadLookupStale, WorkloadCreate, WorkloadCAS, WorkloadMixed, WorkloadBulk, WorkloadList}

// Limits of a run.
const (
	// MaxDuration is the hard cap of one run, whatever --duration or --count say.
	MaxDuration = 10 * time.Minute
	// MaxKeys bounds the key space (and the mappings of one bulk run).
	MaxKeys = 10_000_000
	// MaxValueSize is the largest user_id cellmap accepts (bytes).
	MaxValueSize = 255
	// MaxConcurrency bounds the number of concurrent clients.
	MaxConcurrency = 4096
	// MaxBatchSize is cellmap's cap of ops per transaction.
	MaxBatchSize = 10_000
)

// Sentinel errors.
var (
	// ErrInvalidConfig wraps every configuration error.
	ErrInvalidConfig = errors.New("bench: invalid configuration")
	// ErrNotLoopback is returned for an endpoint that is not on this machine's loopback.
	ErrNotLoopback = errors.New("bench: endpoint is not a loopback address")
	// ErrUnsupported is returned by a target that does not offer a workload (the run is
	// reported as skipped, not failed).
	ErrUnsupported = errors.New("bench: workload not supported by this target")
	// ErrConflict is a refused conditional write (412): counted apart from errors.
	ErrConflict = errors.New("bench: conditional write refused")
	// ErrNotFound is a lookup of a key that does not exist.
	ErrNotFound = errors.New("bench: key not found")
)

// Config is one run.
type Config struct {
	// Endpoints are the addresses clients spread over (worker i uses endpoint i mod len).
	Endpoints []string
	// Workload is one of [Workloads].
	Workload string
	// Concurrency is the number of closed-loop clients (batches in flight for bulk).
	Concurrency int
	// Duration bounds the measured run; Count bounds its operations (mappings for bulk).
	// With both set, whichever comes first ends the run; MaxDuration always does.
	Duration time.Duration
	Count    int64
	// Warmup runs the workload unmeasured before the measured run.
	Warmup time.Duration
	// Keys is the size of the key space lookups, cas and mixed writes draw from; bulk and
	// preload write keys 0..Keys-1.
	Keys int
	// ValueSize is the size of the user_id value written (bytes, 1..MaxValueSize).
	ValueSize int
	// Preload loads the key space (through transactions of BatchSize) before the run.
	Preload bool
	// BatchSize is the ops per transaction of bulk and preload.
	BatchSize int
	// WriteRatio is the share of writes of the mixed workload (0.1: 90 % lookup, 10 % write).
	WriteRatio float64
	// ListLimit is the page size of the list workload; ListProject its project ("": every
	// project, all_tenants=true).
	ListLimit   int
	ListProject string
	// OpTimeout bounds one operation.
	OpTimeout time.Duration
	// Seed makes key choices reproducible.
	Seed int64
	// Label tags the result (e.g. "round 2").
	Label string
	// ServerPIDs are local server processes whose CPU time the result reports (optional).
	ServerPIDs []int
}

// DefaultConfig returns a 10 s linearizable lookup run with 16 clients on 10,000 keys.
func DefaultConfig() *Config {
	return &Config{
		Endpoints: []string{"127.0.0.1:8480"}, Workload: WorkloadLookup, Concurrency: 16,
		Duration: 10 * time.Second, Keys: 10_000, ValueSize: 36, BatchSize: 1000,
		WriteRatio: 0.1, ListLimit: 100, OpTimeout: 10 * time.Second, Seed: 1,
	}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if !known(c.Workload) {
		return fmt.Errorf("%w: unknown workload %q (want one of %s)", ErrInvalidConfig, c.Workload, strings.Join(Workloads, ", "))
	}
	if len(c.Endpoints) == 0 {
		return fmt.Errorf("%w: no endpoints", ErrInvalidConfig)
	}
	for _, e := range c.Endpoints {
		if err := CheckLoopback(e); err != nil {
			return err
		}
	}
	switch {
	case c.Concurrency < 1 || c.Concurrency > MaxConcurrency:
		return fmt.Errorf("%w: concurrency must be in 1..%d", ErrInvalidConfig, MaxConcurrency)
	case c.Duration < 0 || c.Count < 0 || c.Warmup < 0:
		return fmt.Errorf("%w: duration, count and warmup must not be negative", ErrInvalidConfig)
	case c.Duration == 0 && c.Count == 0 && c.Workload != WorkloadBulk:
		return fmt.Errorf("%w: set a duration or a count", ErrInvalidConfig)
	case c.Duration > MaxDuration || c.Warmup > MaxDuration:
		return fmt.Errorf("%w: duration and warmup are capped at %v", ErrInvalidConfig, MaxDuration)
	case c.Keys < 1 || c.Keys > MaxKeys || c.Count > MaxKeys && c.Workload == WorkloadBulk:
		return fmt.Errorf("%w: keys (and bulk count) must be in 1..%d", ErrInvalidConfig, MaxKeys)
	case c.ValueSize < 1 || c.ValueSize > MaxValueSize:
		return fmt.Errorf("%w: value size must be in 1..%d bytes", ErrInvalidConfig, MaxValueSize)
	case c.BatchSize < 1 || c.BatchSize > MaxBatchSize:
		return fmt.Errorf("%w: batch size must be in 1..%d", ErrInvalidConfig, MaxBatchSize)
	case c.WriteRatio < 0 || c.WriteRatio > 1:
		return fmt.Errorf("%w: write ratio must be in 0..1", ErrInvalidConfig)
	case c.ListLimit < 1:
		return fmt.Errorf("%w: list limit must be positive", ErrInvalidConfig)
	case c.OpTimeout <= 0:
		return fmt.Errorf("%w: op timeout must be positive", ErrInvalidConfig)
	}
	return nil
}

func known(w string) bool {
	for _, k := range Workloads {
		if k == w {
			return true
		}
	}
	return false
}

// CheckLoopback accepts "host:port" or "scheme://host:port" where host is a loopback IP or
// "localhost".
func CheckLoopback(endpoint string) error {
	hostport := endpoint
	if i := strings.Index(hostport, "://"); i >= 0 {
		hostport = hostport[i+3:]
	}
	hostport = strings.TrimRight(hostport, "/")
	host, _, err := net.SplitHostPort(hostport)
	if err != nil {
		return fmt.Errorf("%w: endpoint %q: %v", ErrInvalidConfig, endpoint, err)
	}
	if host == "localhost" {
		return nil
	}
	ip := net.ParseIP(host)
	if ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("%w: %q", ErrNotLoopback, endpoint)
	}
	return nil
}
