package fsm

import (
	"errors"
	"fmt"
	"time"
)

// CommandType names what a log entry does.
type CommandType uint8

// Command types. Values are part of the log format: never renumber, only add. A type added
// after log version 1 gets its version in commandVersions and is written in the versioned
// layout (see Encode).
const (
	CmdNoop         CommandType = 1
	CmdCreateCell   CommandType = 2
	CmdUpdateCell   CommandType = 3
	CmdDeleteCell   CommandType = 4
	CmdMapCell0     CommandType = 5
	CmdTxn          CommandType = 6
	CmdPutFlavor    CommandType = 7
	CmdDeleteFlavor CommandType = 8
)

var commandNames = map[CommandType]string{
	CmdNoop: "noop", CmdCreateCell: "create_cell", CmdUpdateCell: "update_cell",
	CmdDeleteCell: "delete_cell", CmdMapCell0: "map_cell0", CmdTxn: "txn",
	CmdPutFlavor: "put_flavor", CmdDeleteFlavor: "delete_flavor",
	CmdACLBootstrap: "acl_bootstrap", CmdTokenCreate: "token_create", CmdTokenDelete: "token_delete",
	CmdPutImage: "put_image", CmdDeleteImage: "delete_image",
	CmdCreateUser: "create_user", CmdUpdateUser: "update_user", CmdDeleteUser: "delete_user",
	CmdPurgeTokens: "purge_tokens",
}

func (t CommandType) String() string {
	if n, ok := commandNames[t]; ok {
		return n
	}
	return fmt.Sprintf("command(%d)", uint8(t))
}

// LogVersion is the newest log entry format this build reads and writes. A release that adds
// a command type (or changes a body) raises it; entries of a higher version are refused by
// Decode with ErrUnsupportedVersion. Version 1 is the format of every entry written before
// versions existed; version 2 added the pending_delete table to transactions; version 3 the
// quota tables, OpAdjust and the aggregates table; version 4 the image catalogue; version 5 the
// users of the built-in identity API and the purge of expired tokens.
const LogVersion = 5

// commandVersions is the log version that introduced each command type.
var commandVersions = map[CommandType]uint64{
	CmdNoop: 1, CmdCreateCell: 1, CmdUpdateCell: 1, CmdDeleteCell: 1,
	CmdMapCell0: 1, CmdTxn: 1, CmdPutFlavor: 1, CmdDeleteFlavor: 1,
	CmdACLBootstrap: 2, CmdTokenCreate: 2, CmdTokenDelete: 2,
	CmdPutImage: 4, CmdDeleteImage: 4,
	CmdCreateUser: 5, CmdUpdateUser: 5, CmdDeleteUser: 5, CmdPurgeTokens: 5,
}

// versionedEntry is the first byte of an entry in the versioned layout. No command type is 0,
// so it never starts a version 1 entry.
const versionedEntry byte = 0

// ErrUnsupportedVersion: the entry was written in a log version newer than this build reads.
var ErrUnsupportedVersion = errors.New("log entry of a newer version than this node supports")

// Command is the body of a log entry.
type Command interface {
	Type() CommandType
	// Validate checks the command's content with the API's rules, without looking at any
	// state; a leader proposes nothing that fails it.
	Validate() error
	marshal(e *encoder)
	unmarshal(d *decoder)
}

// Version is the log version an entry of c is written in: the version that introduced its type,
// or what its content needs when that is newer (a transaction on a newer table).
func Version(c Command) uint64 {
	v := commandVersions[c.Type()]
	if n, ok := c.(interface{ contentVersion() uint64 }); ok {
		v = max(v, n.contentVersion())
	}
	return v
}

// Encode builds a log entry: the command type, the proposer's time, the body. now is the time
// Apply will stamp on records; it is taken here, before proposing, so every replica stamps the
// same value.
//
// A command of log version 1 is written as it always was (type byte, time, body), so every
// release reads it; a command of a later version is written as 0, the version (uvarint), then
// type, time and body, and a release that does not know that version refuses it.
func Encode(c Command, now time.Time) []byte {
	e := encoder{b: make([]byte, 0, 96)}
	if v := Version(c); v > 1 {
		e.byte1(versionedEntry)
		e.uvarint(v)
	}
	e.byte1(byte(c.Type()))
	e.timestamp(now)
	c.marshal(&e)
	return e.b
}

// Decode parses a log entry written by [Encode] (of any log version up to [LogVersion]). An
// entry of a later version fails with an error matching [ErrUnsupportedVersion].
func Decode(b []byte) (Command, time.Time, error) {
	if len(b) == 0 {
		return nil, time.Time{}, errors.New("decode command: empty entry")
	}
	version := uint64(1)
	d := decoder{b: b}
	if b[0] == versionedEntry {
		d.b = b[1:]
		version = d.uvarint()
		switch {
		case d.err != nil || version == 0:
			return nil, time.Time{}, errors.New("decode command: bad log version")
		case version > LogVersion:
			return nil, time.Time{}, fmt.Errorf("decode command: log version %d, this node reads up to %d: %w",
				version, LogVersion, ErrUnsupportedVersion)
		}
	}
	t := CommandType(d.byte1())
	c := newCommand(t)
	if c == nil || d.err != nil {
		return nil, time.Time{}, fmt.Errorf("decode command: unknown type %d", t)
	}
	if since := commandVersions[t]; since > version {
		return nil, time.Time{}, fmt.Errorf("decode command: %s needs log version %d, the entry has %d", t, since, version)
	}
	now := d.timestamp()
	c.unmarshal(&d)
	if err := d.finish(c.Type().String()); err != nil {
		return nil, time.Time{}, err
	}
	if need := Version(c); need > version {
		return nil, time.Time{}, fmt.Errorf("decode command: this %s needs log version %d, the entry has %d", t, need, version)
	}
	return c, now, nil
}

// DecodeValid decodes an entry and validates its command: what a leader does with an entry a
// peer forwards before it proposes it.
func DecodeValid(b []byte) (Command, error) {
	c, _, err := Decode(b)
	if err != nil {
		return nil, err
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

func newCommand(t CommandType) Command {
	switch t {
	case CmdNoop:
		return &Noop{}
	case CmdCreateCell:
		return &CreateCell{}
	case CmdUpdateCell:
		return &UpdateCell{}
	case CmdDeleteCell:
		return &DeleteCell{}
	case CmdMapCell0:
		return &MapCell0{}
	case CmdTxn:
		return &Txn{}
	case CmdPutFlavor:
		return &PutFlavor{}
	case CmdACLBootstrap:
		return &ACLBootstrap{}
	case CmdTokenCreate:
		return &TokenCreate{}
	case CmdTokenDelete:
		return &TokenDelete{}
	case CmdDeleteFlavor:
		return &DeleteFlavor{}
	case CmdPutImage:
		return &PutImage{}
	case CmdDeleteImage:
		return &DeleteImage{}
	case CmdCreateUser:
		return &CreateUser{}
	case CmdUpdateUser:
		return &UpdateUser{}
	case CmdDeleteUser:
		return &DeleteUser{}
	case CmdPurgeTokens:
		return &PurgeTokens{}
	}
	return nil
}

// Noop is committed by every new leader before it serves linearizable reads.
type Noop struct{}

func (*Noop) Type() CommandType  { return CmdNoop }
func (*Noop) marshal(*encoder)   {}
func (*Noop) unmarshal(*decoder) {}

// CreateCell adds a cell mapping (nova-manage cell_v2 create_cell). Cell.UUID is chosen by the
// proposer.
type CreateCell struct{ Cell Cell }

func (*CreateCell) Type() CommandType      { return CmdCreateCell }
func (c *CreateCell) marshal(e *encoder)   { c.Cell.marshal(e) }
func (c *CreateCell) unmarshal(d *decoder) { c.Cell.unmarshal(d) }

// MapCell0 creates cell0 if it does not exist (idempotent).
type MapCell0 struct{ DatabaseConnection string }

func (*MapCell0) Type() CommandType      { return CmdMapCell0 }
func (c *MapCell0) marshal(e *encoder)   { e.str(c.DatabaseConnection) }
func (c *MapCell0) unmarshal(d *decoder) { c.DatabaseConnection = d.str() }

// UpdateCell changes the fields that are set (nova-manage cell_v2 update_cell).
type UpdateCell struct {
	UUID               string
	Name               *string
	TransportURL       *string
	DatabaseConnection *string
	Disabled           *bool
}

func (*UpdateCell) Type() CommandType { return CmdUpdateCell }

func (c *UpdateCell) marshal(e *encoder) {
	e.str(c.UUID)
	for _, p := range []*string{c.Name, c.TransportURL, c.DatabaseConnection} {
		e.boolean(p != nil)
		if p != nil {
			e.str(*p)
		}
	}
	e.boolean(c.Disabled != nil)
	if c.Disabled != nil {
		e.boolean(*c.Disabled)
	}
}

func (c *UpdateCell) unmarshal(d *decoder) {
	c.UUID = d.str()
	for _, p := range []**string{&c.Name, &c.TransportURL, &c.DatabaseConnection} {
		if d.boolean() {
			s := d.str()
			*p = &s
		}
	}
	if d.boolean() {
		v := d.boolean()
		c.Disabled = &v
	}
}

// DeleteCell removes a cell mapping with Nova's checks; Force also removes its host and
// instance mappings (never while non-deleted instances remain). NoLiveInstances says the
// proposer asked the cell's database and found no non-deleted instance: the mappings' own
// queued_for_delete flags, which may be stale, are then not consulted, except for mappings
// written after LiveCheckedAt (log version 2), the index of the state the proposer read before
// it asked: a server that landed in the cell since may be live, so the delete is refused.
type DeleteCell struct {
	UUID            string
	Force           bool
	NoLiveInstances bool
	LiveCheckedAt   uint64
}

// contentVersion is 2 when the delete carries the index of its live-instance check.
func (c *DeleteCell) contentVersion() uint64 {
	if c.LiveCheckedAt != 0 {
		return 2
	}
	return 1
}

func (*DeleteCell) Type() CommandType { return CmdDeleteCell }
func (c *DeleteCell) marshal(e *encoder) {
	e.str(c.UUID)
	e.boolean(c.Force)
	e.boolean(c.NoLiveInstances)
	if c.LiveCheckedAt != 0 {
		e.uvarint(c.LiveCheckedAt)
	}
}
func (c *DeleteCell) unmarshal(d *decoder) {
	c.UUID = d.str()
	c.Force = d.boolean()
	c.NoLiveInstances = d.boolean()
	if d.more() {
		c.LiveCheckedAt = d.uvarint()
	}
}

// PutFlavor creates a flavor; an existing id is a conflict.
type PutFlavor struct{ Flavor Flavor }

func (*PutFlavor) Type() CommandType      { return CmdPutFlavor }
func (c *PutFlavor) marshal(e *encoder)   { c.Flavor.marshal(e) }
func (c *PutFlavor) unmarshal(d *decoder) { c.Flavor.unmarshal(d) }

// DeleteFlavor removes a flavor.
type DeleteFlavor struct{ ID string }

func (*DeleteFlavor) Type() CommandType      { return CmdDeleteFlavor }
func (c *DeleteFlavor) marshal(e *encoder)   { e.str(c.ID) }
func (c *DeleteFlavor) unmarshal(d *decoder) { c.ID = d.str() }
