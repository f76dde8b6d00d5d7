package netns

import (
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Rules is the fault state of one node's namespace: which peers' packets it drops, in which
// direction, on which ports, and how much random loss it adds. The zero value filters nothing.
type Rules struct {
	// DropFrom are peer addresses whose packets this node drops on input.
	DropFrom []string
	// DropTo are peer addresses this node drops packets to on output.
	DropTo []string
	// Ports restricts DropFrom/DropTo to TCP and UDP packets with one of these ports as source
	// or destination (e.g. only gossip). Empty: all traffic.
	Ports []int
	// LossPercent (1..99) drops that share of input packets from LossFrom, at random.
	LossPercent int
	LossFrom    []string
}

// Empty reports whether r filters nothing.
func (r Rules) Empty() bool {
	return len(r.DropFrom) == 0 && len(r.DropTo) == 0 && (r.LossPercent <= 0 || len(r.LossFrom) == 0)
}

// String is a short description for histories.
func (r Rules) String() string {
	if r.Empty() {
		return "none"
	}
	var parts []string
	if len(r.DropFrom) > 0 {
		parts = append(parts, "drop-from "+strings.Join(sorted(r.DropFrom), ","))
	}
	if len(r.DropTo) > 0 {
		parts = append(parts, "drop-to "+strings.Join(sorted(r.DropTo), ","))
	}
	if len(r.Ports) > 0 && (len(r.DropFrom) > 0 || len(r.DropTo) > 0) {
		parts = append(parts, "ports "+joinInts(r.Ports, ","))
	}
	if r.LossPercent > 0 && len(r.LossFrom) > 0 {
		parts = append(parts, fmt.Sprintf("loss %d%% from %s", r.LossPercent, strings.Join(sorted(r.LossFrom), ",")))
	}
	return strings.Join(parts, "; ")
}

// Ruleset renders r as an nft script that atomically replaces table inet <table> (the
// "declare, delete, redeclare" idiom works whether or not the table exists). Empty rules
// only delete the table.
func (r Rules) Ruleset(table string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "table inet %s\ndelete table inet %s\n", table, table)
	if r.Empty() {
		return b.String()
	}
	fmt.Fprintf(&b, "table inet %s {\n", table)
	b.WriteString("\tchain input {\n\t\ttype filter hook input priority 0; policy accept;\n")
	for _, rule := range dropRules("ip saddr", r.DropFrom, r.Ports) {
		b.WriteString("\t\t" + rule + "\n")
	}
	if r.LossPercent > 0 && len(r.LossFrom) > 0 {
		fmt.Fprintf(&b, "\t\tip saddr %s numgen random mod 100 < %d drop\n", addrSet(r.LossFrom), clampPercent(r.LossPercent))
	}
	b.WriteString("\t}\n")
	b.WriteString("\tchain output {\n\t\ttype filter hook output priority 0; policy accept;\n")
	for _, rule := range dropRules("ip daddr", r.DropTo, r.Ports) {
		b.WriteString("\t\t" + rule + "\n")
	}
	b.WriteString("\t}\n}\n")
	return b.String()
}

func dropRules(match string, addrs []string, ports []int) []string {
	if len(addrs) == 0 {
		return nil
	}
	set := addrSet(addrs)
	if len(ports) == 0 {
		return []string{fmt.Sprintf("%s %s drop", match, set)}
	}
	ps := "{ " + joinInts(ports, ", ") + " }"
	return []string{
		fmt.Sprintf("%s %s meta l4proto { tcp, udp } th dport %s drop", match, set, ps),
		fmt.Sprintf("%s %s meta l4proto { tcp, udp } th sport %s drop", match, set, ps),
	}
}

func addrSet(addrs []string) string { return "{ " + strings.Join(sorted(addrs), ", ") + " }" }

func sorted(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}

func joinInts(v []int, sep string) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = strconv.Itoa(x)
	}
	return strings.Join(s, sep)
}

func clampPercent(p int) int {
	switch {
	case p < 1:
		return 1
	case p > 99:
		return 99
	}
	return p
}
