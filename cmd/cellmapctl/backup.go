package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strconv"
	"time"

	"github.com/cellmap/cellmap/backup"
	"github.com/cellmap/cellmap/client"
)

// backup, backup verify, backup inspect and restore exit codes.
const (
	exitBackupRefused  = 1 // FILE exists (backup), or is not a valid backup (verify, inspect)
	exitRestoreRefused = 1 // FILE is not a valid backup, or the cluster refused it; nothing changed
)

// backupResult is the JSON result of the backup commands: the header, and the record counts
// of verify, inspect and restore.
type backupResult struct {
	File          string         `json:"file"`
	FormatVersion int            `json:"format_version"`
	RaftIndex     uint64         `json:"raft_index"`
	RaftTerm      uint64         `json:"raft_term"`
	FSMChecksum   string         `json:"fsm_checksum"`
	StateSize     int64          `json:"state_size"`
	Created       time.Time      `json:"created"`
	NodeID        string         `json:"node_id"`
	Records       map[string]int `json:"records,omitempty"`
}

func newBackupResult(file string, info *backup.Info) *backupResult {
	h := info.Header
	res := &backupResult{File: file, FormatVersion: h.FormatVersion, RaftIndex: h.RaftIndex, RaftTerm: h.RaftTerm,
		FSMChecksum: h.FSMChecksum, StateSize: h.StateSize, Created: h.Created, NodeID: h.NodeID}
	if info.Summary != nil {
		res.Records = map[string]int{}
		for _, c := range info.Summary.Records {
			res.Records[c.Kind] = c.Count
		}
	}
	return res
}

// describe is the one-line description of a backup.
func (b *backupResult) describe() string {
	return fmt.Sprintf("raft index %d, term %d, FSM checksum %s, %d bytes of state, taken %s by %s",
		b.RaftIndex, b.RaftTerm, b.FSMChecksum, b.StateSize, b.Created.Format(time.RFC3339), b.NodeID)
}

// backup FILE -------------------------------------------------------------------------------

// backupOptions are the options of backup.
type backupOptions struct {
	force bool
}

// backupCommand is the dispatch entry of backup (the group's own command).
func backupCommand() command {
	return command{name: "backup",
		summary: "Save a consistent backup of the cluster's state to FILE (needs an admin token).\n" +
			"Any node serves it after a linearizable barrier. The backup goes to FILE.tmp, is verified as it is\n" +
			"written (trailing SHA-256, the state itself, its index and checksum), fsynced and renamed to FILE.\n" +
			"'backup verify FILE' checks a backup offline, 'backup inspect FILE' shows what it holds.",
		exits: "  0 written\n  1 FILE exists (see --force)\n",
		new:   func() options { return &backupOptions{} }}
}

// addFlags defines the options of backup.
func (o *backupOptions) addFlags(f *flagSet) {
	f.fs.BoolVar(&o.force, "force", false, "replace FILE when it exists")
	f.positional("<FILE>", 1, 1)
}

// run executes backup.
func (o *backupOptions) run(ctx context.Context, e *env, args []string) int {
	r := e.report()
	path := args[0]
	if _, err := os.Stat(path); err == nil && !o.force {
		r.say("%s exists; nothing was written (--force replaces it).", path)
		return r.done(exitBackupRefused)
	} else if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return r.fail(err)
	}
	info, err := backup.WriteFile(path, func(w io.Writer) error {
		_, err := e.client.Backup(ctx, w)
		return err
	})
	if err != nil {
		return r.fail(err)
	}
	res := newBackupResult(path, info)
	res.Records = nil
	r.say("Backup written to %s: %s.", path, res.describe())
	r.result = res
	return r.done(exitOK)
}

// backup verify FILE ------------------------------------------------------------------------

// backupVerifyOptions are the options of backup verify.
type backupVerifyOptions struct{}

// backupVerifyCommand is the dispatch entry of backup verify.
func backupVerifyCommand() command {
	return command{name: "verify",
		summary: "Check a backup offline: its structure, trailing SHA-256, the state inside (every page readable,\n" +
			"its entries hash to its checksum) and the state's index and checksum against the header.",
		exits: "  0 valid\n  1 not a valid backup\n",
		new:   func() options { return &backupVerifyOptions{} }}
}

// addFlags defines the options of backup verify.
func (o *backupVerifyOptions) addFlags(f *flagSet) { f.positional("<FILE>", 1, 1) }

// run executes backup verify.
func (o *backupVerifyOptions) run(_ context.Context, e *env, args []string) int {
	r := e.report()
	info, ok := verifyBackup(r, args[0])
	if !ok {
		return r.done(exitBackupRefused)
	}
	res := newBackupResult(args[0], info)
	r.say("%s is a valid backup: %s.", args[0], res.describe())
	r.result = res
	return r.done(exitOK)
}

// verifyBackup verifies the backup at path; on failure it says why.
func verifyBackup(r *report, path string) (*backup.Info, bool) {
	info, err := backup.Verify(path)
	if err != nil {
		r.say("%s is not a valid backup: %v", path, err)
		return nil, false
	}
	return info, true
}

// backup inspect FILE -----------------------------------------------------------------------

// backupInspectOptions are the options of backup inspect.
type backupInspectOptions struct{}

// backupInspectCommand is the dispatch entry of backup inspect.
func backupInspectCommand() command {
	return command{name: "inspect",
		summary: "Show a backup's header and how many records of each type it holds (verifying it first).",
		exits:   "  0 shown\n  1 not a valid backup\n",
		new:     func() options { return &backupInspectOptions{} }}
}

// addFlags defines the options of backup inspect.
func (o *backupInspectOptions) addFlags(f *flagSet) { f.positional("<FILE>", 1, 1) }

// run executes backup inspect.
func (o *backupInspectOptions) run(_ context.Context, e *env, args []string) int {
	r := e.report()
	info, ok := verifyBackup(r, args[0])
	if !ok {
		return r.done(exitBackupRefused)
	}
	res := newBackupResult(args[0], info)
	header := newTable("Field", "Value")
	for _, row := range [][2]string{
		{"File", args[0]}, {"Format version", strconv.Itoa(res.FormatVersion)},
		{"Raft index", strconv.FormatUint(res.RaftIndex, 10)}, {"Raft term", strconv.FormatUint(res.RaftTerm, 10)},
		{"FSM checksum", res.FSMChecksum}, {"State size", strconv.FormatInt(res.StateSize, 10) + " bytes"},
		{"Created", res.Created.Format(time.RFC3339Nano)}, {"Node", res.NodeID},
	} {
		header.addRow(row[0], row[1])
	}
	records := newTable("Record Type", "Count")
	for _, c := range info.Summary.Records {
		records.addRow(c.Kind, strconv.Itoa(c.Count))
	}
	return e.show(res, header, records)
}

// restore FILE ------------------------------------------------------------------------------

// restoreOptions are the options of restore.
type restoreOptions struct{}

// restoreCommand is the dispatch entry of restore.
func restoreCommand() command {
	return command{name: "restore",
		summary: "Replace the running cluster's state with the backup in FILE (needs an admin token).\n" +
			"FILE is verified here first, then by the node; the leader restores it through raft (every node ends\n" +
			"with the backup's checksum). Writes acknowledged after the backup was taken are gone afterwards.",
		exits: "  0 restored\n  1 FILE is not a valid backup, or the cluster refused it (nothing changed)\n",
		new:   func() options { return &restoreOptions{} }}
}

// addFlags defines the options of restore.
func (o *restoreOptions) addFlags(f *flagSet) { f.positional("<FILE>", 1, 1) }

// run executes restore.
func (o *restoreOptions) run(ctx context.Context, e *env, args []string) int {
	r := e.report()
	path := args[0]
	if _, ok := verifyBackup(r, path); !ok {
		r.say("Nothing was sent to the cluster.")
		return r.done(exitRestoreRefused)
	}
	f, err := os.Open(path)
	if err != nil {
		return r.fail(err)
	}
	defer f.Close()
	h, err := e.client.Restore(ctx, f)
	var ae *client.Error
	switch {
	case errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500:
		r.say("The cluster refused the backup: %s (nothing changed).", apiMessage(err))
		return r.done(exitRestoreRefused)
	case err != nil:
		return r.fail(err)
	}
	res := &backupResult{File: path, FormatVersion: h.FormatVersion, RaftIndex: h.RaftIndex, RaftTerm: h.RaftTerm,
		FSMChecksum: h.FSMChecksum, StateSize: h.StateSize, Created: h.Created, NodeID: h.NodeID}
	r.say("Restored %s: the cluster's state is the backup's (%s).", path, res.describe())
	r.result = res
	return r.done(exitOK)
}
