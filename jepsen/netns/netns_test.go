package netns

import (
	"context"
	"strings"
	"testing"
)

func TestRulesetPartition(t *testing.T) {
	r := Rules{DropFrom: []string{"10.77.0.3", "10.77.0.2"}, DropTo: []string{"10.77.0.2"}}
	want := `table inet cmj
delete table inet cmj
table inet cmj {
	chain input {
		type filter hook input priority 0; policy accept;
		ip saddr { 10.77.0.2, 10.77.0.3 } drop
	}
	chain output {
		type filter hook output priority 0; policy accept;
		ip daddr { 10.77.0.2 } drop
	}
}
`
	if got := r.Ruleset("cmj"); got != want {
		t.Fatalf("got\n%s\nwant\n%s", got, want)
	}
}

func TestRulesetPortsAndLoss(t *testing.T) {
	r := Rules{DropFrom: []string{"10.77.0.2"}, Ports: []int{8482}, LossPercent: 150, LossFrom: []string{"10.77.0.3"}}
	got := r.Ruleset("cmj")
	for _, want := range []string{
		"ip saddr { 10.77.0.2 } meta l4proto { tcp, udp } th dport { 8482 } drop",
		"ip saddr { 10.77.0.2 } meta l4proto { tcp, udp } th sport { 8482 } drop",
		"ip saddr { 10.77.0.3 } numgen random mod 100 < 99 drop",
	} {
		if !strings.Contains(got, want) {
			t.Fatalf("ruleset lacks %q:\n%s", want, got)
		}
	}
	if s := r.String(); !strings.Contains(s, "ports 8482") || !strings.Contains(s, "loss 150% from 10.77.0.3") {
		t.Fatalf("String: %q", s)
	}
}

func TestRulesetEmptyDeletesTable(t *testing.T) {
	if got := (Rules{}).Ruleset("cmj"); got != "table inet cmj\ndelete table inet cmj\n" {
		t.Fatalf("got %q", got)
	}
	if !(Rules{LossPercent: 20}).Empty() {
		t.Fatal("loss without peers filters nothing")
	}
}

func TestParseListings(t *testing.T) {
	ns := namespaces("cmj-n1 (id: 3)\nother\ncmj-n2\n\n")
	if strings.Join(ns, ",") != "cmj-n1,cmj-n2" {
		t.Fatalf("namespaces: %v", ns)
	}
	ls := links("1: lo: <LOOPBACK,UP> mtu 65536\n7: cmj-v1@if2: <BROADCAST> mtu 1500\n9: cmj-br0: <BROADCAST>\n3: eth0: <UP>\n")
	if strings.Join(ls, ",") != "cmj-v1,cmj-br0" {
		t.Fatalf("links: %v", ls)
	}
}

func TestSetupCommands(t *testing.T) {
	var cmds []string
	fake := func(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
		cmds = append(cmds, name+" "+strings.Join(args, " "))
		return nil, nil
	}
	n, err := New(2, fake)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Setup(context.Background()); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(cmds, "\n")
	for _, want := range []string{
		"ip link add cmj-br0 type bridge",
		"ip addr add 10.77.0.254/24 dev cmj-br0",
		"ip netns add cmj-n2",
		"ip link add cmj-v2 type veth peer name eth0 netns cmj-n2",
		"ip -n cmj-n1 addr add 10.77.0.1/24 dev eth0",
	} {
		if !strings.Contains(all, want) {
			t.Fatalf("setup lacks %q:\n%s", want, all)
		}
	}
	for _, c := range cmds {
		for _, f := range strings.Fields(c) {
			if strings.HasPrefix(f, "10.") && !strings.HasPrefix(f, "10.77.0.") {
				t.Fatalf("address outside the test subnet: %s", c)
			}
		}
	}
	cmds = nil
	n.CutConns(context.Background(), 1, []string{"10.77.0.2"}, []int{8482})
	if want := "ip netns exec cmj-n1 ss -K -t dst 10.77.0.2 ( dport = :8482 or sport = :8482 )"; cmds[0] != want {
		t.Fatalf("got %q, want %q", cmds[0], want)
	}
	if _, err := New(0, fake); err == nil {
		t.Fatal("0 nodes accepted")
	}
}

func TestAddHost(t *testing.T) {
	var cmds []string
	fake := func(_ context.Context, stdin []byte, name string, args ...string) ([]byte, error) {
		cmds = append(cmds, strings.TrimSpace(name+" "+strings.Join(args, " ")+" "+string(stdin)))
		return nil, nil
	}
	n, _ := New(3, fake)
	h, err := n.AddHost(context.Background(), "cell1")
	if err != nil || h.Index != 4 || h.IP != "10.77.0.4" || h.NS != "cmj-h4" {
		t.Fatalf("first host: %+v %v", h, err)
	}
	again, _ := n.AddHost(context.Background(), "cell1")
	h2, _ := n.AddHost(context.Background(), "cell2")
	if again != h || h2.Index != 5 || len(n.Hosts()) != 2 {
		t.Fatalf("hosts: %+v %+v %v", again, h2, n.Hosts())
	}
	all := strings.Join(cmds, "\n")
	for _, want := range []string{"ip netns add cmj-h4", "ip link add cmj-v4 type veth peer name eth0 netns cmj-h4",
		"ip link set cmj-v4 master cmj-br0 up", "ip -n cmj-h5 addr add 10.77.0.5/24 dev eth0"} {
		if !strings.Contains(all, want) {
			t.Fatalf("AddHost lacks %q:\n%s", want, all)
		}
	}
	cmds = nil
	n.SetRules(context.Background(), 4, Rules{DropFrom: []string{Subnet}, DropTo: []string{Subnet}})
	n.CutConns(context.Background(), 4, []string{Subnet}, nil)
	n.Exec(context.Background(), 2, "true")
	if !strings.HasPrefix(cmds[0], "ip netns exec cmj-h4 nft -f -") || !strings.Contains(cmds[0], "ip saddr { 10.77.0.0/24 } drop") ||
		!strings.Contains(cmds[0], "ip daddr { 10.77.0.0/24 } drop") {
		t.Fatalf("isolating a host: %s", cmds[0])
	}
	if cmds[1] != "ip netns exec cmj-h4 ss -K -t dst 10.77.0.0/24" || cmds[2] != "ip netns exec cmj-n2 true" {
		t.Fatalf("commands: %q", cmds[1:])
	}
}
