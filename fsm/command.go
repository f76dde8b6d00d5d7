package fsm

import (
	"errors"
	"fmt"
	"time"
)

// CommandType is the first byte of every log entry.
type CommandType uint8

// Command types. Values are part of the log format: never renumber, only add.
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
}

func (t CommandType) String() string {
	if n, ok := commandNames[t]; ok {
		return n
	}
	return fmt.Sprintf("command(%d)", uint8(t))
}

// Command is the body of a log entry.
type Command interface {
	Type() CommandType
	marshal(e *encoder)
	unmarshal(d *decoder)
}

// Encode builds a log entry: type byte, the proposer's time, body. now is the time Apply will
// stamp on records; it is taken here, before proposing, so every replica stamps the same value.
func Encode(c Command, now time.Time) []byte {
	e := encoder{b: make([]byte, 0, 96)}
	e.byte1(byte(c.Type()))
	e.timestamp(now)
	c.marshal(&e)
	return e.b
}

// Decode parses a log entry written by [Encode].
func Decode(b []byte) (Command, time.Time, error) {
	if len(b) == 0 {
		return nil, time.Time{}, errors.New("decode command: empty entry")
	}
	c := newCommand(CommandType(b[0]))
	if c == nil {
		return nil, time.Time{}, fmt.Errorf("decode command: unknown type %d", b[0])
	}
	d := decoder{b: b[1:]}
	now := d.timestamp()
	c.unmarshal(&d)
	if err := d.finish(c.Type().String()); err != nil {
		return nil, time.Time{}, err
	}
	return c, now, nil
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
	case CmdDeleteFlavor:
		return &DeleteFlavor{}
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
// queued_for_delete flags, which may be stale, are then not consulted.
type DeleteCell struct {
	UUID            string
	Force           bool
	NoLiveInstances bool
}

func (*DeleteCell) Type() CommandType { return CmdDeleteCell }
func (c *DeleteCell) marshal(e *encoder) {
	e.str(c.UUID)
	e.boolean(c.Force)
	e.boolean(c.NoLiveInstances)
}
func (c *DeleteCell) unmarshal(d *decoder) {
	c.UUID = d.str()
	c.Force = d.boolean()
	c.NoLiveInstances = d.boolean()
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
