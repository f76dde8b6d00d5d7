package check

import (
	"fmt"
	"sort"

	"github.com/anishathalye/porcupine"
)

// staleEvidence looks in one key's operations for the plainest proof of a stale read: a
// successful read that returned a revision older than one a write had already produced and
// acknowledged before the read began. It returns human-readable lines (at most max).
func staleEvidence(key string, ops []porcupine.Operation, max int) []string {
	type write struct {
		rev   uint64
		value string
		ret   int64
		meta  any
	}
	var writes []write
	for _, op := range ops {
		in, out := op.Input.(RegInput), op.Output.(RegOutput)
		if in.F != "read" && out.Status == OutOK && out.Rev != 0 {
			writes = append(writes, write{out.Rev, in.Value, op.Return, op.Metadata})
		}
	}
	sort.Slice(writes, func(i, j int) bool { return writes[i].ret < writes[j].ret })
	var lines []string
	for _, op := range ops {
		in, out := op.Input.(RegInput), op.Output.(RegOutput)
		if in.F != "read" || out.Status != OutOK {
			continue
		}
		var newest *write
		for i := range writes {
			if writes[i].ret >= op.Call {
				break
			}
			if newest == nil || writes[i].rev > newest.rev {
				newest = &writes[i]
			}
		}
		if newest == nil || (out.Value != "" && out.Rev >= newest.rev) {
			continue
		}
		seen := "absent"
		if out.Value != "" {
			seen = fmt.Sprintf("%s@r%d", out.Value, out.Rev)
		}
		lines = append(lines, fmt.Sprintf("key %s: read at %.3fs (%v) returned %s, but %s@r%d was acknowledged at %.3fs (%v)",
			key, float64(op.Call)/1e9, op.Metadata, seen, newest.value, newest.rev, float64(newest.ret)/1e9, newest.meta))
		if len(lines) >= max {
			break
		}
	}
	return lines
}
