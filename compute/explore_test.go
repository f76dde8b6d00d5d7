package compute_test

import (
	"os"
	"os/exec"
	"testing"
)

func TestExploreOSC(t *testing.T) {
	if os.Getenv("S14_EXPLORE") == "" {
		t.Skip()
	}
	cl := startCloud(t)
	run := func(args ...string) {
		base := []string{"--os-auth-type", "admin_token", "--os-endpoint", cl.dp.URL + "/compute/v2.1", "--os-token", cl.p1}
		cmd := exec.Command("openstack", append(base, args...)...)
		out, err := cmd.CombinedOutput()
		t.Logf("openstack %v: err=%v\n%s", args, err, out)
	}
	id := cl.createServer(t, cl.p1, "vm1", "1")
	for _, a := range [][]string{{"server", "list", "-f", "json"}, {"server", "list", "--long", "-f", "json"}, {"server", "show", "-f", "json", id},
		{"limits", "show", "--absolute", "-f", "json"}, {"--os-compute-api-version", "2.69", "server", "list", "-f", "json"},
		{"--os-compute-api-version", "2.69", "server", "show", "-f", "json", id}, {"server", "delete", "--wait", id}} {
		run(a...)
	}
	tok := cl.p1
	cl.p1 = cl.admin
	for _, a := range [][]string{{"compute", "service", "list", "-f", "json"}, {"hypervisor", "list", "-f", "json"}} {
		run(a...)
	}
	cl.p1 = tok
}
