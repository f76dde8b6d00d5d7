package main

import (
	"errors"
	"flag"
	"time"

	"github.com/cellmap/cellmap/backup"
	"github.com/hashicorp/go-hclog"
)

// backupFlags are the periodic backups' flags (--backup-dir, --backup-interval,
// --backup-keep) and --restore-from.
type backupFlags struct {
	dir         string
	interval    time.Duration
	keep        int
	restoreFrom string
}

func (b *backupFlags) register(fs *flag.FlagSet) {
	def := backup.DefaultConfig("")
	fs.StringVar(&b.dir, "backup-dir", "", "write periodic backups of the state here while this node leads (off when empty)")
	fs.DurationVar(&b.interval, "backup-interval", def.Interval, "time between two periodic backups")
	fs.IntVar(&b.keep, "backup-keep", def.Keep, "periodic backups kept in --backup-dir (older ones are removed)")
	fs.StringVar(&b.restoreFrom, "restore-from", "", "with --bootstrap: start the new cluster from this backup file (cellmapctl backup)")
}

// check validates the flags; bootstrap is --bootstrap.
func (b *backupFlags) check(bootstrap bool) error {
	if b.restoreFrom != "" && !bootstrap {
		return errors.New("--restore-from starts a new cluster: it goes with --bootstrap (restore into a running cluster with cellmapctl restore)")
	}
	if b.dir == "" {
		return nil
	}
	_, err := b.config(nil)
	return err
}

// config is the periodic backups' configuration (nil when --backup-dir is not set).
func (b *backupFlags) config(logger hclog.Logger) (*backup.Config, error) {
	if b.dir == "" {
		return nil, nil
	}
	cfg := backup.DefaultConfig(b.dir)
	cfg.Interval, cfg.Keep, cfg.Logger = b.interval, b.keep, logger
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}
