// Package check decides whether a recorded history is correct: linearizability of the
// register workload (porcupine, partitioned by key), the set workload's final listing, stale
// reads' monotonic index, a single leader per term, replica convergence and raft membership.
// Every checker works from the history alone, so a run can be re-checked offline.
package check

import (
	"fmt"
	"hash/fnv"

	"github.com/anishathalye/porcupine"
)

// Outputs of register operations.
const (
	OutOK       = iota // the operation happened (reads: Value/Rev were observed)
	OutUnknown         // a write or cas whose fate is unknown (info)
	OutMismatch        // a cas refused with revision_mismatch: it did not happen
)

// RegInput is a register operation as the model sees it.
type RegInput struct {
	F      string // read, write or cas
	Key    string
	Value  string // write, cas: the value written
	Expect uint64 // cas: the expected revision
}

// RegOutput is a register operation's result.
type RegOutput struct {
	Status int
	Value  string // read: the value seen ("" = absent)
	Rev    uint64 // read: the revision seen; write, cas: the new revision (0 = unknown)
}

// RegState is one possible state of a register: absent, or a value with a revision that is
// known exactly or only known to be above Floor (after a write whose revision was not seen).
type RegState struct {
	Exists bool
	Value  string
	Rev    uint64
	Known  bool
	Floor  uint64
}

// floor is a strict lower bound of any later revision.
func (s RegState) floor() uint64 {
	if s.Known {
		return s.Rev
	}
	return s.Floor
}

// revIs reports whether the register's revision can be r.
func (s RegState) revIs(r uint64) bool {
	if s.Known {
		return s.Rev == r
	}
	return r > s.Floor
}

// written is the state after writing value with new revision rev (0: unknown, above floor).
func written(value string, rev, floor uint64) RegState {
	if rev != 0 {
		return RegState{Exists: true, Value: value, Rev: rev, Known: true}
	}
	return RegState{Exists: true, Value: value, Floor: floor}
}

// RegStep is the register's sequential specification: the states op can lead to from s
// (none: op is impossible in s). Revisions are raft indexes: each write produces a strictly
// larger one, and a read must return exactly the current value and revision. A write or cas
// of unknown outcome is applied when it can be (porcupine may always place it last, where it
// changes nothing, which covers "never happened").
func RegStep(s RegState, in RegInput, out RegOutput) []RegState {
	switch in.F {
	case "read":
		if out.Value == "" {
			if s.Exists {
				return nil
			}
			return []RegState{s}
		}
		if !s.Exists || s.Value != out.Value || !s.revIs(out.Rev) {
			return nil
		}
		return []RegState{{Exists: true, Value: out.Value, Rev: out.Rev, Known: true}}
	case "write":
		if out.Status == OutOK && out.Rev != 0 && out.Rev <= s.floor() {
			return nil
		}
		return []RegState{written(in.Value, out.Rev, s.floor())}
	case "cas":
		return casStep(s, in, out)
	}
	return nil
}

func casStep(s RegState, in RegInput, out RegOutput) []RegState {
	switch out.Status {
	case OutOK:
		if !s.Exists || !s.revIs(in.Expect) || (out.Rev != 0 && out.Rev <= in.Expect) {
			return nil
		}
		return []RegState{written(in.Value, out.Rev, in.Expect)}
	case OutMismatch:
		if s.Exists && s.Known && s.Rev == in.Expect {
			return nil
		}
		return []RegState{s}
	}
	// Unknown outcome: applied if the precondition holds, a no-op if it does not.
	switch {
	case !s.Exists || !s.revIs(in.Expect):
		return []RegState{s}
	case s.Known:
		return []RegState{written(in.Value, 0, in.Expect)}
	}
	return []RegState{s, written(in.Value, 0, in.Expect)}
}

// RegisterModel is the porcupine model of one register key (partitioned by key when a
// history holds several).
func RegisterModel() porcupine.Model {
	nm := porcupine.NondeterministicModel{
		Partition: partitionByKey,
		Init:      func() []interface{} { return []interface{}{RegState{}} },
		Step: func(state, input, output interface{}) []interface{} {
			next := RegStep(state.(RegState), input.(RegInput), output.(RegOutput))
			out := make([]interface{}, len(next))
			for i, s := range next {
				out[i] = s
			}
			return out
		},
		Equal: func(a, b interface{}) bool { return a.(RegState) == b.(RegState) },
		Hash: func(state interface{}) uint64 {
			s := state.(RegState)
			h := fnv.New64a()
			fmt.Fprintf(h, "%t|%s|%d|%t|%d", s.Exists, s.Value, s.Rev, s.Known, s.Floor)
			return h.Sum64()
		},
		DescribeOperation: describeRegOp,
		DescribeState:     func(state interface{}) string { return describeRegState(state.(RegState)) },
		DescribeOperationMetadata: func(info interface{}) string {
			if info == nil {
				return ""
			}
			return fmt.Sprint(info)
		},
	}
	return nm.ToModel()
}

func partitionByKey(history []porcupine.Operation) [][]porcupine.Operation {
	idx := map[string]int{}
	var parts [][]porcupine.Operation
	for _, op := range history {
		k := op.Input.(RegInput).Key
		i, ok := idx[k]
		if !ok {
			i = len(parts)
			idx[k] = i
			parts = append(parts, nil)
		}
		parts[i] = append(parts[i], op)
	}
	return parts
}

func describeRegOp(input, output interface{}) string {
	in, out := input.(RegInput), output.(RegOutput)
	res := "?"
	switch out.Status {
	case OutMismatch:
		res = "mismatch"
	case OutOK:
		res = revString(out.Rev)
	}
	switch in.F {
	case "read":
		if out.Value == "" {
			return "read() → absent"
		}
		return fmt.Sprintf("read() → %s@%s", out.Value, revString(out.Rev))
	case "write":
		return fmt.Sprintf("write(%s) → %s", in.Value, res)
	}
	return fmt.Sprintf("cas(r%d, %s) → %s", in.Expect, in.Value, res)
}

func revString(r uint64) string {
	if r == 0 {
		return "r?"
	}
	return fmt.Sprintf("r%d", r)
}

func describeRegState(s RegState) string {
	switch {
	case !s.Exists:
		return "absent"
	case s.Known:
		return fmt.Sprintf("%s@r%d", s.Value, s.Rev)
	}
	return fmt.Sprintf("%s@r>%d", s.Value, s.Floor)
}
