package fsm

import "fmt"

// Table names a keyed record set that transactions may change.
type Table uint8

// Tables. Values are part of the log format.
const (
	TableInstanceMappings Table = 1
	TableHostMappings     Table = 2
	TableBuildRequests    Table = 3
	TableRequestSpecs     Table = 4
	TableCell0Instances   Table = 5
	TableMapMarkers       Table = 6
	// TablePendingDeletes (log version 2) holds the servers queued for delete whose cell has
	// not confirmed the delete yet: the leader retries them until it does.
	TablePendingDeletes Table = 7
	// TableQuotaUsages and TableQuotaLimits (log version 3) hold each project's usage, changed
	// by OpAdjust, and limits (quota.go).
	TableQuotaUsages Table = 8
	TableQuotaLimits Table = 9
	// TableAggregates (log version 3) holds the host aggregates (aggregates.go).
	TableAggregates Table = 10
	// TableServerGroups (log version 3) holds the server groups (servergroups.go).
	TableServerGroups Table = 11
)

var tableNames = map[Table]string{
	TableInstanceMappings: "instance_mapping", TableHostMappings: "host_mapping",
	TableBuildRequests: "build_request", TableRequestSpecs: "request_spec",
	TableCell0Instances: "cell0_instance", TableMapMarkers: "map_marker",
	TablePendingDeletes: "pending_delete", TableQuotaUsages: "quota_usage", TableQuotaLimits: "quota_limit",
	TableAggregates: "aggregate", TableServerGroups: "server_group",
}

func (t Table) String() string {
	if n, ok := tableNames[t]; ok {
		return n
	}
	return fmt.Sprintf("table(%d)", uint8(t))
}

// TableByName returns the table called name (as in [Table.String]).
func TableByName(name string) (Table, bool) {
	for t, n := range tableNames {
		if n == name {
			return t, true
		}
	}
	return 0, false
}

// NewRecord returns an empty record of the table, or nil for an unknown table.
func (t Table) NewRecord() Record {
	switch t {
	case TableInstanceMappings:
		return &InstanceMapping{}
	case TableHostMappings:
		return &HostMapping{}
	case TableBuildRequests, TableRequestSpecs:
		return &ServerRequest{}
	case TableCell0Instances:
		return &Cell0Instance{}
	case TableMapMarkers:
		return &MapMarker{}
	case TablePendingDeletes:
		return &PendingDelete{}
	case TableQuotaUsages:
		return &QuotaUsage{}
	case TableQuotaLimits:
		return &QuotaLimit{}
	case TableAggregates:
		return &Aggregate{}
	case TableServerGroups:
		return &ServerGroup{}
	}
	return nil
}

// OpKind is what one transaction op does.
type OpKind uint8

// Op kinds. Values are part of the log format.
const (
	// OpPut creates or replaces Record.
	OpPut OpKind = 1
	// OpDelete removes the record at Key; a missing record fails the transaction.
	OpDelete OpKind = 2
	// OpCheck only tests the preconditions of the record at Key.
	OpCheck OpKind = 3
	// OpPutIfAbsent creates Record unless its key exists, in which case the op does nothing
	// (map_instances skips instances that are already mapped).
	OpPutIfAbsent OpKind = 4
	// OpAdjust (log version 3) changes a record by a delta, without preconditions: on
	// quota_usage it adds Record's values to the project's usage (absent: zero), each result
	// at least 0, and an increase over the project's limit fails the transaction with
	// ErrQuotaExceeded; on server_group it adds Record's members to the existing group.
	OpAdjust OpKind = 5
)

var opNames = map[OpKind]string{OpPut: "put", OpDelete: "delete", OpCheck: "check", OpPutIfAbsent: "put_if_absent",
	OpAdjust: "adjust"}

func (k OpKind) String() string {
	if n, ok := opNames[k]; ok {
		return n
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// OpKindByName returns the op kind called name (as in [OpKind.String]).
func OpKindByName(name string) (OpKind, bool) {
	for k, n := range opNames {
		if n == name {
			return k, true
		}
	}
	return 0, false
}

// Op is one step of a [Txn]. The preconditions (IfRevision, IfAbsent, IfCell) are tested against
// the state before the transaction; an op's key may appear only once per transaction.
type Op struct {
	Kind   OpKind
	Table  Table
	Key    string // delete and check; put takes the key of Record
	Record Record // put
	// IfRevision, when non-zero, requires the record to exist with this revision.
	IfRevision uint64
	// IfAbsent requires that no record has the key.
	IfAbsent bool
	// IfCell requires the (host or instance) mapping to be in this cell.
	IfCell string
}

// OpKey is the key the op works on.
func (o *Op) OpKey() string {
	if o.Record != nil {
		return o.Record.Key()
	}
	return o.Key
}

// Txn applies all of its ops or none.
type Txn struct{ Ops []Op }

func (*Txn) Type() CommandType { return CmdTxn }

func (t *Txn) marshal(e *encoder) {
	e.uvarint(uint64(len(t.Ops)))
	for i := range t.Ops {
		o := &t.Ops[i]
		e.byte1(byte(o.Kind))
		e.byte1(byte(o.Table))
		e.str(o.Key)
		e.uvarint(o.IfRevision)
		e.boolean(o.IfAbsent)
		e.str(o.IfCell)
		e.boolean(o.Record != nil)
		if o.Record != nil {
			o.Record.marshal(e)
		}
	}
}

func (t *Txn) unmarshal(d *decoder) {
	n := d.uvarint()
	if n > uint64(len(d.b)) {
		d.fail(errShortBuffer)
		return
	}
	// Grown as ops decode, never sized by the declared count alone (see decoder.sizeHint).
	t.Ops = make([]Op, 0, d.sizeHint(n))
	for i := uint64(0); i < n && d.err == nil; i++ {
		t.Ops = append(t.Ops, Op{})
		o := &t.Ops[len(t.Ops)-1]
		o.Kind, o.Table = OpKind(d.byte1()), Table(d.byte1())
		o.Key = d.str()
		o.IfRevision = d.uvarint()
		o.IfAbsent = d.boolean()
		o.IfCell = d.str()
		if d.boolean() {
			if o.Record = o.Table.NewRecord(); o.Record == nil {
				d.fail(fmt.Errorf("unknown table %d", o.Table))
				return
			}
			o.Record.unmarshal(d)
		}
	}
}

// contentVersion is the log version the transaction's tables need: 3 when it touches the
// quota or aggregate tables, 2 the pending_delete table, 1 otherwise.
func (t *Txn) contentVersion() uint64 {
	v := uint64(1)
	for i := range t.Ops {
		switch t.Ops[i].Table {
		case TableQuotaUsages, TableQuotaLimits, TableAggregates, TableServerGroups:
			return 3
		case TablePendingDeletes:
			v = 2
		}
	}
	return v
}
