package fsm

import (
	"fmt"
	"reflect"
)

// recordVersion prefixes every stored record so the layout can evolve.
const recordVersion = 1

// Record is a stored record: a row of one [Table].
type Record interface {
	// Key is the record's primary key in its table.
	Key() string
	marshal(e *encoder)
	unmarshal(d *decoder)
	// stamp sets the revision and times of a record being written by ac, keeping the
	// creation time of the record it replaces (prev may be nil).
	stamp(ac *applyCtx, prev Record)
	// rev is the raft index that last wrote the record.
	rev() uint64
}

// celled is a record that belongs to one cell.
type celled interface{ cell() string }

func (c *Cell) rev() uint64            { return c.Revision }
func (h *HostMapping) rev() uint64     { return h.Revision }
func (m *InstanceMapping) rev() uint64 { return m.Revision }
func (f *Flavor) rev() uint64          { return f.Revision }
func (r *ServerRequest) rev() uint64   { return r.Revision }
func (c *Cell0Instance) rev() uint64   { return c.Revision }
func (m *MapMarker) rev() uint64       { return m.Revision }
func (p *PendingDelete) rev() uint64   { return p.Revision }

func (h *HostMapping) cell() string     { return h.CellUUID }
func (m *InstanceMapping) cell() string { return m.CellUUID }
func (m *MapMarker) cell() string       { return m.CellUUID }
func (p *PendingDelete) cell() string   { return p.CellUUID }

// EncodeRecord returns a record's kind (its table's name) and its stored bytes, for carrying
// it to another node; DecodeRecord reverses it.
func EncodeRecord(r Record) (kind string, data []byte) {
	for _, t := range allTables {
		if reflect.TypeOf(t.newRec()) == reflect.TypeOf(r) {
			return t.name, encodeRecord(r)
		}
	}
	return "", nil
}

// DecodeRecord rebuilds a record written by EncodeRecord.
func DecodeRecord(kind string, data []byte) (Record, error) {
	for _, t := range allTables {
		if t.name == kind {
			r := t.newRec()
			return r, decodeRecord(data, r)
		}
	}
	return nil, fmt.Errorf("decode record: unknown kind %q", kind)
}

func encodeRecord(r Record) []byte {
	e := encoder{b: make([]byte, 0, 128)}
	e.byte1(recordVersion)
	r.marshal(&e)
	return e.b
}

func decodeRecord(b []byte, r Record) error {
	d := decoder{b: b}
	if v := d.byte1(); v != recordVersion && d.err == nil {
		return fmt.Errorf("decode record: unknown version %d", v)
	}
	r.unmarshal(&d)
	return d.finish("record")
}

func (c *Cell) Key() string { return c.UUID }
func (c *Cell) marshal(e *encoder) {
	e.str(c.UUID)
	e.str(c.Name)
	e.str(c.TransportURL)
	e.str(c.DatabaseConnection)
	e.boolean(c.Disabled)
	e.timestamp(c.CreatedAt)
	e.timestamp(c.UpdatedAt)
	e.uvarint(c.Revision)
}
func (c *Cell) unmarshal(d *decoder) {
	c.UUID, c.Name, c.TransportURL, c.DatabaseConnection = d.str(), d.str(), d.str(), d.str()
	c.Disabled = d.boolean()
	c.CreatedAt, c.UpdatedAt = d.timestamp(), d.timestamp()
	c.Revision = d.uvarint()
}
func (c *Cell) stamp(ac *applyCtx, prev Record) {
	c.Revision, c.UpdatedAt, c.CreatedAt = ac.index, ac.now, ac.now
	if p, ok := prev.(*Cell); ok {
		c.CreatedAt = p.CreatedAt
	}
}

func (h *HostMapping) Key() string { return h.Host }
func (h *HostMapping) marshal(e *encoder) {
	e.str(h.Host)
	e.str(h.CellUUID)
	e.timestamp(h.CreatedAt)
	e.timestamp(h.UpdatedAt)
	e.uvarint(h.Revision)
}
func (h *HostMapping) unmarshal(d *decoder) {
	h.Host, h.CellUUID = d.str(), d.str()
	h.CreatedAt, h.UpdatedAt = d.timestamp(), d.timestamp()
	h.Revision = d.uvarint()
}
func (h *HostMapping) stamp(ac *applyCtx, prev Record) {
	h.Revision, h.UpdatedAt, h.CreatedAt = ac.index, ac.now, ac.now
	if p, ok := prev.(*HostMapping); ok {
		h.CreatedAt = p.CreatedAt
	}
}

func (m *InstanceMapping) Key() string { return m.InstanceUUID }
func (m *InstanceMapping) marshal(e *encoder) {
	e.str(m.InstanceUUID)
	e.str(m.CellUUID)
	e.str(m.ProjectID)
	e.str(m.UserID)
	e.boolean(m.QueuedForDelete)
	e.timestamp(m.CreatedAt)
	e.timestamp(m.UpdatedAt)
	e.uvarint(m.Revision)
	e.uvarint(m.CreatedRevision)
}
func (m *InstanceMapping) unmarshal(d *decoder) {
	m.InstanceUUID, m.CellUUID, m.ProjectID, m.UserID = d.str(), d.str(), d.str(), d.str()
	m.QueuedForDelete = d.boolean()
	m.CreatedAt, m.UpdatedAt = d.timestamp(), d.timestamp()
	m.Revision, m.CreatedRevision = d.uvarint(), d.uvarint()
}

// stamp keeps a caller-supplied CreatedAt (map_instances copies the instance's creation time),
// else the previous record's, else the proposal time.
func (m *InstanceMapping) stamp(ac *applyCtx, prev Record) {
	m.Revision, m.UpdatedAt, m.CreatedRevision = ac.index, ac.now, ac.index
	if p, ok := prev.(*InstanceMapping); ok {
		m.CreatedAt, m.CreatedRevision = p.CreatedAt, p.CreatedRevision
	}
	if m.CreatedAt.IsZero() {
		m.CreatedAt = ac.now
	}
}

func (f *Flavor) Key() string { return f.ID }
func (f *Flavor) marshal(e *encoder) {
	e.str(f.ID)
	e.str(f.Name)
	e.varint(f.VCPUs)
	e.varint(f.RAMMB)
	e.varint(f.DiskGB)
	e.strMap(f.ExtraSpecs)
	e.timestamp(f.CreatedAt)
	e.uvarint(f.Revision)
}
func (f *Flavor) unmarshal(d *decoder) {
	f.ID, f.Name = d.str(), d.str()
	f.VCPUs, f.RAMMB, f.DiskGB = d.int64v(), d.int64v(), d.int64v()
	f.ExtraSpecs = d.strMap()
	f.CreatedAt = d.timestamp()
	f.Revision = d.uvarint()
}
func (f *Flavor) stamp(ac *applyCtx, prev Record) {
	f.Revision, f.CreatedAt = ac.index, ac.now
}

func (s *ServerSpec) marshal(e *encoder) {
	e.str(s.Name)
	e.str(s.ProjectID)
	e.str(s.UserID)
	e.str(s.ImageRef)
	e.str(s.AvailabilityZone)
	s.Flavor.marshal(e)
	e.strMap(s.Metadata)
}
func (s *ServerSpec) unmarshal(d *decoder) {
	s.Name, s.ProjectID, s.UserID, s.ImageRef, s.AvailabilityZone = d.str(), d.str(), d.str(), d.str(), d.str()
	s.Flavor.unmarshal(d)
	s.Metadata = d.strMap()
}

func (r *ServerRequest) Key() string { return r.InstanceUUID }
func (r *ServerRequest) marshal(e *encoder) {
	e.str(r.InstanceUUID)
	r.Spec.marshal(e)
	e.timestamp(r.CreatedAt)
	e.uvarint(r.Revision)
}
func (r *ServerRequest) unmarshal(d *decoder) {
	r.InstanceUUID = d.str()
	r.Spec.unmarshal(d)
	r.CreatedAt = d.timestamp()
	r.Revision = d.uvarint()
}
func (r *ServerRequest) stamp(ac *applyCtx, prev Record) {
	r.Revision = ac.index
	if r.CreatedAt.IsZero() {
		r.CreatedAt = ac.now
	}
}

func (c *Cell0Instance) Key() string { return c.InstanceUUID }
func (c *Cell0Instance) marshal(e *encoder) {
	e.str(c.InstanceUUID)
	c.Spec.marshal(e)
	e.str(c.Status)
	e.str(c.Fault)
	e.timestamp(c.CreatedAt)
	e.timestamp(c.UpdatedAt)
	e.uvarint(c.Revision)
}
func (c *Cell0Instance) unmarshal(d *decoder) {
	c.InstanceUUID = d.str()
	c.Spec.unmarshal(d)
	c.Status, c.Fault = d.str(), d.str()
	c.CreatedAt, c.UpdatedAt = d.timestamp(), d.timestamp()
	c.Revision = d.uvarint()
}
func (c *Cell0Instance) stamp(ac *applyCtx, prev Record) {
	c.Revision, c.UpdatedAt = ac.index, ac.now
	if p, ok := prev.(*Cell0Instance); ok {
		c.CreatedAt = p.CreatedAt
	}
	if c.CreatedAt.IsZero() {
		c.CreatedAt = ac.now
	}
}

func (m *MapMarker) Key() string { return m.CellUUID }
func (m *MapMarker) marshal(e *encoder) {
	e.str(m.CellUUID)
	e.str(m.Marker)
	e.timestamp(m.UpdatedAt)
	e.uvarint(m.Revision)
}
func (m *MapMarker) unmarshal(d *decoder) {
	m.CellUUID, m.Marker = d.str(), d.str()
	m.UpdatedAt = d.timestamp()
	m.Revision = d.uvarint()
}
func (m *MapMarker) stamp(ac *applyCtx, prev Record) {
	m.Revision, m.UpdatedAt = ac.index, ac.now
}

func (p *PendingDelete) Key() string { return p.InstanceUUID }
func (p *PendingDelete) marshal(e *encoder) {
	e.str(p.InstanceUUID)
	e.str(p.CellUUID)
	e.timestamp(p.CreatedAt)
	e.timestamp(p.UpdatedAt)
	e.uvarint(p.Revision)
}
func (p *PendingDelete) unmarshal(d *decoder) {
	p.InstanceUUID, p.CellUUID = d.str(), d.str()
	p.CreatedAt, p.UpdatedAt = d.timestamp(), d.timestamp()
	p.Revision = d.uvarint()
}
func (p *PendingDelete) stamp(ac *applyCtx, prev Record) {
	p.Revision, p.UpdatedAt = ac.index, ac.now
	if old, ok := prev.(*PendingDelete); ok {
		p.CreatedAt = old.CreatedAt
	}
	if p.CreatedAt.IsZero() {
		p.CreatedAt = ac.now
	}
}
