package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// conductorProc is one cellconductor process.
type conductorProc struct {
	cell, dir, http, gossip string
	p                       *testcluster.Process
}

func startConductor(t *testing.T, c *conductorProc, join string) {
	t.Helper()
	c.p = testcluster.Start(t, "conductor-"+c.cell[:8], testcluster.Binary(t, "cellconductor"),
		"--cell-uuid", c.cell, "--data-dir", c.dir, "--http-addr", c.http, "--gossip-addr", c.gossip,
		"--join", join, "--gossip-profile", "test", "--hosts", "h1:16:32768:500,h2:16:32768:500", "--log-level", "warn")
}

// dataPlaneCluster starts size cellmapd processes (gossip test profile) and two conductors.
func dataPlaneCluster(t *testing.T, size int) ([]*proc, []string, []*conductorProc) {
	procs := make([]*proc, size)
	gossips := make([]string, size)
	for i := range procs {
		procs[i] = &proc{id: fmt.Sprintf("n%d", i+1), dir: t.TempDir(), http: testkit.FreeAddr(t), raft: testkit.FreeAddr(t)}
		gossips[i] = testkit.FreeUDPTCPAddr(t)
	}
	extra := []string{"--gossip-addr", gossips[0], "--gossip-profile", "test", "--list-timeout", "20s", "--default-availability-zone", "zone0"}
	startProc(t, procs[0], append([]string{"--bootstrap"}, extra...)...)
	testcluster.WaitReady(t, procs[0].http, 30*time.Second)
	for i, pr := range procs[1:] {
		startProc(t, pr, "--join", procs[0].http, "--gossip-addr", gossips[i+1], "--gossip-join", gossips[0], "--gossip-profile", "test", "--list-timeout", "20s",
			"--default-availability-zone", "zone0")
	}
	c := procs[0].c
	testkit.WaitFor(t, "all voters", 30*time.Second, func() bool {
		st, err := c.ClusterStatus(ctx(t, time.Second))
		return err == nil && testcluster.Voters(st) == size
	})
	if _, _, err := c.MapCell0(ctx(t, 10*time.Second), "cellmap://replicated-state/cell0"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.CreateFlavor(ctx(t, 10*time.Second), api.Flavor{ID: "1", Name: "tiny", VCPUs: 1, RAMMB: 256, DiskGB: 1}); err != nil {
		t.Fatal(err)
	}
	conds := []*conductorProc{}
	for i, cell := range []string{"c1111111-0000-4000-8000-000000000001", "c2222222-0000-4000-8000-000000000002"} {
		cp := &conductorProc{cell: cell, dir: t.TempDir(), http: testkit.FreeAddr(t), gossip: testkit.FreeUDPTCPAddr(t)}
		startConductor(t, cp, gossips[i%size])
		if _, err := c.CreateCell(ctx(t, 10*time.Second), api.CellCreate{UUID: cell, Name: fmt.Sprintf("cell%d", i+1),
			TransportURL: "http://" + cp.http + "/", DatabaseConnection: "bbolt:///" + cp.dir}); err != nil {
			t.Fatal(err)
		}
		conds = append(conds, cp)
	}
	for _, pr := range procs { // health is each node's own gossip view
		testkit.WaitFor(t, pr.id+" sees both cells up", 30*time.Second, func() bool {
			return cellStatus(t, pr.c, conds[0].cell) == "up" && cellStatus(t, pr.c, conds[1].cell) == "up"
		})
	}
	if _, err := c.DiscoverHosts(ctx(t, 10*time.Second), api.DiscoverHosts{}); err != nil {
		t.Fatal(err)
	}
	return procs, gossips, conds
}

func cellStatus(t *testing.T, c *client.Client, cell string) string {
	cl, err := c.Cell(ctx(t, time.Second), cell)
	if err != nil || cl.Health == nil {
		return ""
	}
	return cl.Health.Status
}

// TestDataPlaneProcesses runs real cellmapd and cellconductor processes: servers spread over
// two cells; cell2's conductor is killed (-9) and the cell is reported down (the detection time
// is logged); listings hold minimal records for exactly cell2's servers; deletes there are
// refused; the conductor comes back on its data and full records return.
func TestDataPlaneProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	for _, size := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d-node", size), func(t *testing.T) { dataPlaneScenario(t, size) })
	}
}

func dataPlaneScenario(t *testing.T, size int) {
	procs, gossips, conds := dataPlaneCluster(t, size)
	c := procs[size-1].c // a follower when size > 1
	cellOf := map[string]string{}
	for i := 0; i < 8; i++ {
		s, err := c.CreateServer(ctx(t, 10*time.Second), api.ServerCreateSpec{Name: fmt.Sprintf("vm%d", i), FlavorRef: "1",
			ImageRef: "img", ProjectID: fmt.Sprintf("p%d", i%2), UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		testkit.WaitFor(t, "server scheduled", 30*time.Second, func() bool {
			got, err := c.Server(ctx(t, 5*time.Second), s.ID)
			if err == nil && got.Status == api.StatusActive {
				cellOf[s.ID] = got.CellUUID
			}
			return cellOf[s.ID] != ""
		})
	}
	down := conds[1].cell
	var inDown []string
	for id, cell := range cellOf {
		if cell == down {
			inDown = append(inDown, id)
		}
	}
	if len(inDown) == 0 || len(inDown) == len(cellOf) {
		t.Fatalf("servers not spread over both cells: %v", cellOf)
	}
	// --default-availability-zone names the zone of every host in no zoned aggregate, in the
	// compute API too (a reader may list zones and show its servers; the admin token is used).
	var zones struct {
		Info []struct{ ZoneName string } `json:"availabilityZoneInfo"`
	}
	computeGet(t, procs[size-1].http, "/compute/v2.1/os-availability-zone", &zones)
	if len(zones.Info) != 1 || zones.Info[0].ZoneName != "zone0" {
		t.Fatalf("compute zones %+v, want only zone0", zones)
	}
	var shown struct {
		Server map[string]any `json:"server"`
	}
	computeGet(t, procs[size-1].http, "/compute/v2.1/servers/"+inDown[0], &shown)
	if shown.Server["OS-EXT-AZ:availability_zone"] != "zone0" {
		t.Fatalf("server zone %v, want zone0", shown.Server["OS-EXT-AZ:availability_zone"])
	}

	if err := conds[1].p.Kill(); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	testkit.WaitFor(t, "cell2 reported down", 30*time.Second, func() bool { return cellStatus(t, c, down) == "down" })
	t.Logf("%d-node: cell down detected %v after kill -9 of its only conductor (gossip test profile)", size, time.Since(killed).Round(10*time.Millisecond))

	start := time.Now()
	list, err := c.Servers(ctx(t, 30*time.Second), api.ServerQuery{AllTenants: true})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed >= 20*time.Second {
		t.Fatalf("listing took %v: it waited for the down cell's deadline", elapsed)
	}
	unknown := 0
	for _, s := range list.Servers {
		switch {
		case cellOf[s.ID] == down && s.Status == api.StatusUnknown:
			unknown++
		case cellOf[s.ID] != down && s.Status == api.StatusActive:
		default:
			t.Fatalf("server %s (cell %s) listed as %s", s.ID, cellOf[s.ID], s.Status)
		}
	}
	if unknown != len(inDown) || len(list.Servers) != len(cellOf) || len(list.DownCells) != 1 {
		t.Fatalf("got %d minimal of %d in the down cell, %d servers of %d, down %v", unknown, len(inDown), len(list.Servers), len(cellOf), list.DownCells)
	}
	if err := c.DeleteServer(ctx(t, 10*time.Second), inDown[0]); client.CodeOf(err) != api.CodeCellDown {
		t.Fatalf("delete in the down cell: got %v, want cell_down", err)
	}

	startConductor(t, conds[1], gossips[0])
	testkit.WaitFor(t, "cell2 up again", 30*time.Second, func() bool { return cellStatus(t, c, down) == "up" })
	back, err := c.Servers(ctx(t, 30*time.Second), api.ServerQuery{AllTenants: true})
	if err != nil || len(back.DownCells) != 0 || len(back.Servers) != len(cellOf) {
		t.Fatalf("after the conductor returned: %d servers, down %v (%v)", len(back.Servers), back.DownCells, err)
	}
	for _, s := range back.Servers {
		if s.Status != api.StatusActive {
			t.Fatalf("server %s is %s after its cell returned", s.ID, s.Status)
		}
	}
}

// computeGet reads a compute API document with the admin token.
func computeGet(t *testing.T, addr, path string, v any) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t, 10*time.Second), http.MethodGet, "http://"+addr+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-Auth-Token", testkit.AdminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
}
