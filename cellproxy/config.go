package cellproxy

import (
	"crypto/tls"
	"errors"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/transport"
	"github.com/hashicorp/go-hclog"
)

// Config configures the data plane.
type Config struct {
	// ListTimeout is the one deadline of a cross-cell listing; cells that have not answered by
	// then are reported as down for that request.
	ListTimeout time.Duration
	// CellRequestTimeout bounds any other request to a conductor.
	CellRequestTimeout time.Duration
	// FailureCooldown is how long a conductor whose request failed counts as down, unless
	// gossip reports it alive again sooner.
	FailureCooldown time.Duration
	// ScheduleTimeout bounds the scheduling of one server.
	ScheduleTimeout time.Duration
	// MaxScheduling is the number of scheduling workers of this node: the servers it schedules
	// at once.
	MaxScheduling int
	// MaxQueuedSchedules bounds the accepted servers waiting for a worker. When the queue is
	// full a new server's build request stays in the replicated state and the leader's
	// rescheduler picks it up after BuildRetryAfter.
	MaxQueuedSchedules int
	// BuildRetryAfter: the leader reschedules build requests older than this that nobody is
	// scheduling (e.g. after the node that accepted them died).
	BuildRetryAfter time.Duration
	// ForgetConductorsAfter: a conductor that left or failed and has not come back for this
	// long is dropped from the registry (0: DefaultForgetAfter).
	ForgetConductorsAfter time.Duration
	// BaseTransportURL and BaseDatabaseConnection fill template cell URLs (nova.conf's
	// [DEFAULT]/transport_url and [database]/connection) when the data plane reads where a
	// cell's conductor lives (ConductorAddr).
	BaseTransportURL, BaseDatabaseConnection string
	// DeleteRetryInterval is how often the leader retries the queued deletes its cells have not
	// confirmed (and the first wait of one that failed; it doubles up to 5 minutes).
	DeleteRetryInterval time.Duration
	// DiscoverInterval runs discover_hosts periodically on the leader; 0 disables it.
	DiscoverInterval time.Duration
	// BlockCreatesOnDownCell refuses a create (ErrProjectCellDown) while the project has
	// servers in a down cell, as Nova does because it counts usage in the cells. cellmap counts
	// usage at the API tier, so the default lets such creates through.
	BlockCreatesOnDownCell bool
	// QuotaReconcileInterval is how often (±10 %) the leader compares a batch of projects'
	// quota usage with what their cells hold; 0 disables it.
	QuotaReconcileInterval time.Duration
	// QuotaReconcileBatch is the most projects one reconciliation round checks (1..fsm.MaxTxnOps).
	QuotaReconcileBatch int
	// QuotaReconcileFix replaces a drifted usage with the state's recount (as `quota verify
	// --fix`); off, drift is only reported.
	QuotaReconcileFix bool
	// Observer, when set, hears conductor calls, scheduling outcomes and down-cell listings
	// (metrics).
	Observer Observer
	// DefaultAvailabilityZone is the zone of every host in no zoned aggregate (Nova's
	// default_availability_zone, "nova").
	DefaultAvailabilityZone string
	// DiscoverBatch is the most host mappings discover_hosts writes in one transaction
	// (1..fsm.MaxTxnOps).
	DiscoverBatch int
	// HTTP configures the pooled client of the conductors' HTTP API; nil is
	// transport.DefaultHTTPConfig.
	HTTP *transport.HTTPConfig
	// TLS, when set, makes every conductor call mutual TLS: this node presents its certificate
	// and the conductor must present one of the cluster CA naming the cell called
	// (cellmap://cell/<uuid>). Plain http:// conductors are then refused.
	TLS ClientTLS
	// Logger receives the data plane's messages; nil discards.
	Logger hclog.Logger
}

// ClientTLS hands out client TLS configurations that follow certificate reloads (a
// *transport.TLSReloader).
type ClientTLS interface {
	ClientConfig(serverName string, check transport.PeerCheck) *tls.Config
}

// DefaultConfig returns production settings.
func DefaultConfig() *Config {
	return &Config{ListTimeout: 3 * time.Second, CellRequestTimeout: 10 * time.Second, FailureCooldown: 5 * time.Second,
		ScheduleTimeout: time.Minute, MaxScheduling: 64, MaxQueuedSchedules: 4096, BuildRetryAfter: 30 * time.Second,
		DeleteRetryInterval: 10 * time.Second, DiscoverBatch: fsm.MaxTxnOps, QuotaReconcileInterval: 5 * time.Minute, QuotaReconcileBatch: 100, HTTP: transport.DefaultHTTPConfig(),
		DefaultAvailabilityZone: "nova"}
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	if c.ListTimeout <= 0 || c.CellRequestTimeout <= 0 || c.ScheduleTimeout <= 0 || c.BuildRetryAfter <= 0 || c.DeleteRetryInterval <= 0 {
		return errors.New("cellproxy: timeouts must be positive")
	}
	if c.FailureCooldown < 0 || c.DiscoverInterval < 0 || c.ForgetConductorsAfter < 0 || c.QuotaReconcileInterval < 0 {
		return errors.New("cellproxy: FailureCooldown, DiscoverInterval, ForgetConductorsAfter and QuotaReconcileInterval must not be negative")
	}
	if c.QuotaReconcileInterval > 0 && (c.QuotaReconcileBatch <= 0 || c.QuotaReconcileBatch > fsm.MaxTxnOps) {
		return fmt.Errorf("cellproxy: QuotaReconcileBatch must be 1..%d", fsm.MaxTxnOps)
	}
	if c.MaxScheduling <= 0 || c.MaxQueuedSchedules <= 0 {
		return errors.New("cellproxy: MaxScheduling and MaxQueuedSchedules must be positive")
	}
	if c.DiscoverBatch <= 0 || c.DiscoverBatch > fsm.MaxTxnOps {
		return fmt.Errorf("cellproxy: DiscoverBatch must be 1..%d", fsm.MaxTxnOps)
	}
	return nil
}

// observer returns the configured Observer or one that does nothing.
func (c *Config) observer() Observer {
	if c.Observer == nil {
		return noObserver{}
	}
	return c.Observer
}
