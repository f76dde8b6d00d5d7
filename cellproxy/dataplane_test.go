package cellproxy_test

import (
	"context"
	"fmt"
	"sort"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/cellproxy"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

const (
	cell1 = "c1111111-0000-4000-8000-000000000001"
	cell2 = "c2222222-0000-4000-8000-000000000002"
	cell3 = "c3333333-0000-4000-8000-000000000003"
	hosts = "h1:16:32768:500,h2:16:32768:500"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func addFlavor(t *testing.T, c *client.Client, id string, vcpus, ram int64) {
	t.Helper()
	if _, err := c.CreateFlavor(ctxT(t), api.Flavor{ID: id, Name: "f" + id, VCPUs: vcpus, RAMMB: ram, DiskGB: 1,
		ExtraSpecs: map[string]string{"hw:cpu_policy": "shared"}}); err != nil {
		t.Fatal(err)
	}
}

// createAndWait creates a server and waits until it left BUILD.
func createAndWait(t *testing.T, c *client.Client, name, project, flavor string) api.Server {
	t.Helper()
	s, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: name, FlavorRef: flavor, ImageRef: "img-" + name, ProjectID: project, UserID: "u-" + project})
	if err != nil {
		t.Fatalf("create %s: %v", name, err)
	}
	if s.Status != api.StatusBuild {
		t.Fatalf("create %s: got status %s, want BUILD", name, s.Status)
	}
	return waitBuilt(t, c, s.ID)
}

// waitBuilt waits until a server has left BUILD and returns it.
func waitBuilt(t *testing.T, c *client.Client, id string) api.Server {
	t.Helper()
	var got *api.Server
	var err error
	// UNKNOWN is not an outcome: it is how a server shows while its cell is seen down, which on
	// a loaded machine can happen for a moment (a conductor's gossip ping times out and it is
	// suspected; a failed call puts the cell in its cooldown). Wait past it.
	testkit.WaitFor(t, id+" scheduled", 30*time.Second, func() bool {
		got, err = c.Server(ctxT(t), id)
		return err == nil && got.Status != api.StatusBuild && got.Status != api.StatusUnknown
	})
	return *got
}

func ids(servers []api.Server) []string {
	out := make([]string, len(servers))
	for i, s := range servers {
		out[i] = s.ID
	}
	return out
}

// TestDownCell follows a cell through its death and return: listings keep full records of the
// live cell and minimal records of exactly the down cell's non-deleted servers, without
// waiting for the list deadline; show is minimal, delete is refused and changes nothing, and
// creating for a project with servers there goes to a live cell.
func TestDownCell(t *testing.T) {
	const listTimeout = 20 * time.Second
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) { c.ListTimeout = listTimeout }})
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	c2 := dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, c, "1", 1, 512)

	byCell := map[string][]api.Server{}
	for i := 0; i < 8; i++ {
		s := createAndWait(t, c, fmt.Sprintf("vm%d", i), fmt.Sprintf("p%d", i%2+1), "1")
		if s.Status != api.StatusActive || s.Flavor == nil || s.Flavor.ExtraSpecs["hw:cpu_policy"] != "shared" {
			t.Fatalf("got %+v, want ACTIVE with the full flavor", s)
		}
		byCell[s.CellUUID] = append(byCell[s.CellUUID], s)
	}
	if len(byCell[cell1]) == 0 || len(byCell[cell2]) == 0 {
		t.Fatalf("servers not spread over both cells: %d in cell1, %d in cell2", len(byCell[cell1]), len(byCell[cell2]))
	}
	victim := byCell[cell2][0]
	if err := c.DeleteServer(ctxT(t), victim.ID); err != nil { // deleted before the cell dies: no minimal record
		t.Fatal(err)
	}
	live2 := byCell[cell2][1:]

	c2.Stop()
	testkit.WaitFor(t, "cell2 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell2) })
	if h := dp.Registry.CellHealth(cell2); h.Status != "down" {
		t.Fatalf("cell2 health: got %+v, want down", h)
	}

	start := time.Now()
	list, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true})
	if err != nil {
		t.Fatal(err)
	}
	if elapsed := time.Since(start); elapsed >= listTimeout {
		t.Fatalf("listing waited %v on a cell known down, want it answered before the %v deadline", elapsed, listTimeout)
	}
	checkDownListing(t, list, byCell[cell1], live2)

	// Paging or sorting: the down cell is skipped (Nova 2.69) and still reported.
	paged, err := c.Servers(ctxT(t), api.ServerQuery{AllTenants: true, Limit: 100})
	if err != nil || len(paged.Servers) != len(byCell[cell1]) || len(paged.DownCells) != 1 {
		t.Fatalf("paged listing: got %d servers, down %v (%v), want only cell1's", len(paged.Servers), paged.DownCells, err)
	}

	show, err := c.Server(ctxT(t), live2[0].ID)
	if err != nil || show.Status != api.StatusUnknown || show.TenantID != live2[0].TenantID || show.Image != live2[0].Image ||
		show.Flavor == nil || show.Flavor.ID != "1" || show.UserID != live2[0].UserID {
		t.Fatalf("show in the down cell: got %+v (%v), want a minimal record", show, err)
	}
	if _, err := c.Server(ctxT(t), victim.ID); !client.IsNotFound(err) {
		t.Fatalf("show of a deleted server in the down cell: got %v, want 404", err)
	}

	before, _, _ := c.InstanceMapping(ctxT(t), live2[0].ID)
	if err := c.DeleteServer(ctxT(t), live2[0].ID); client.CodeOf(err) != api.CodeCellDown {
		t.Fatalf("delete in the down cell: got %v, want cell_down", err)
	}
	after, _, _ := c.InstanceMapping(ctxT(t), live2[0].ID)
	if after.Revision != before.Revision || after.QueuedForDelete {
		t.Fatalf("a refused delete changed the mapping: %+v -> %+v", before, after)
	}

	// Usage is counted at the API tier, so a project with servers in the down cell still
	// creates (into an up cell); BlockCreatesOnDownCell keeps Nova's refusal
	// (TestBlockCreatesOnDownCell).
	if s := createAndWait(t, c, "x", live2[0].TenantID, "1"); s.CellUUID != cell1 || s.Status != api.StatusActive {
		t.Fatalf("create for a project with servers in the down cell: got %s in %s, want ACTIVE in cell1", s.Status, s.CellUUID)
	}
	if s := createAndWait(t, c, "other", "p3", "1"); s.CellUUID != cell1 {
		t.Fatalf("another project's server: got cell %s, want cell1", s.CellUUID)
	}

	// The cell comes back: full records again. A restarted conductor can be seen alive, then
	// dead again for a moment (its old incarnation's death still gossiped, which it refutes),
	// so the listing is polled until it names no down cell instead of trusting one look.
	c2.Restart(t)
	var back *api.ServerList
	testkit.WaitFor(t, "a listing with cell2 up", 15*time.Second, func() bool {
		back, err = c.Servers(ctxT(t), api.ServerQuery{AllTenants: true})
		return err == nil && len(back.DownCells) == 0
	})
	for _, s := range back.Servers {
		if s.Status != api.StatusActive {
			t.Fatalf("after the cell returned: %s has status %s, want ACTIVE", s.ID, s.Status)
		}
	}
}

// TestBlockCreatesOnDownCell: with BlockCreatesOnDownCell a project with servers in a down
// cell cannot create (Nova's rule: its usage could not be counted there), and nothing is
// written; other projects can.
func TestBlockCreatesOnDownCell(t *testing.T) {
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) { c.BlockCreatesOnDownCell = true }})
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hosts)
	c2 := dp.AddCell(t, "cell2", cell2, hosts)
	addFlavor(t, c, "1", 1, 512)
	yes, no := true, false
	if _, err := c.UpdateCell(ctxT(t), cell1, api.CellUpdate{Disabled: &yes}); err != nil {
		t.Fatal(err)
	}
	s := createAndWait(t, c, "in-cell2", "p1", "1")
	if s.CellUUID != cell2 {
		t.Fatalf("got cell %s, want cell2 (cell1 is disabled)", s.CellUUID)
	}
	if _, err := c.UpdateCell(ctxT(t), cell1, api.CellUpdate{Disabled: &no}); err != nil {
		t.Fatal(err)
	}
	c2.Stop()
	testkit.WaitFor(t, "cell2 down", 15*time.Second, func() bool { return !dp.Registry.Up(cell2) })
	checksum := func() string {
		st, err := c.ClusterStatus(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		return st.FSMChecksum
	}
	before := checksum()
	_, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: "x", FlavorRef: "1", ProjectID: "p1", UserID: "u"})
	if client.CodeOf(err) != api.CodeProjectCellDown {
		t.Fatalf("create for a project with servers in the down cell: got %v, want project_cell_down", err)
	}
	if checksum() != before {
		t.Fatal("a refused create changed the state")
	}
	if s := createAndWait(t, c, "other", "p2", "1"); s.CellUUID != cell1 {
		t.Fatalf("another project's server: got cell %s, want cell1", s.CellUUID)
	}
}

func checkDownListing(t *testing.T, list *api.ServerList, up, down []api.Server) {
	t.Helper()
	if len(list.DownCells) != 1 || list.DownCells[0] != cell2 {
		t.Fatalf("down_cells: got %v, want [cell2]", list.DownCells)
	}
	got := map[string]api.Server{}
	for _, s := range list.Servers {
		got[s.ID] = s
	}
	if len(got) != len(up)+len(down) {
		t.Fatalf("got %d servers, want %d of cell1 and %d minimal of cell2", len(got), len(up), len(down))
	}
	for _, s := range up {
		if g, ok := got[s.ID]; !ok || g.Status != api.StatusActive || g.Name != s.Name {
			t.Fatalf("cell1 server %s: got %+v, want its full record", s.ID, g)
		}
	}
	for i, s := range down {
		g, ok := got[s.ID]
		if !ok || g.Status != api.StatusUnknown || g.TenantID != s.TenantID || g.Name != "" {
			t.Fatalf("cell2 server %s: got %+v, want a minimal record", s.ID, g)
		}
		if list.Servers[i].Status != api.StatusUnknown {
			t.Fatalf("minimal records must come first: position %d is %+v", i, list.Servers[i])
		}
	}
}

func TestCapacityExhaustedBuriesInCell0(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "small", cell1, "h1:2:1024:10")
	addFlavor(t, c, "huge", 64, 1<<20)
	s := createAndWait(t, c, "big", "p1", "huge")
	if s.Status != api.StatusError || s.CellUUID != api.Cell0UUID || s.Fault == nil || s.Fault.Message == "" {
		t.Fatalf("got %+v, want ERROR in cell0 with a fault", s)
	}
	list, err := c.Servers(ctxT(t), api.ServerQuery{ProjectID: "p1"})
	if err != nil || len(list.Servers) != 1 || list.Servers[0].Status != api.StatusError {
		t.Fatalf("list: got %+v (%v), want the cell0 server", list, err)
	}
	v, err := c.VerifyInstance(ctxT(t), s.ID)
	if err != nil || v.Instance != "present" {
		t.Fatalf("verify: got %+v (%v), want present in cell0", v, err)
	}
	if err := c.DeleteServer(ctxT(t), s.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Server(ctxT(t), s.ID); !client.IsNotFound(err) {
		t.Fatalf("show after delete: got %v, want 404", err)
	}
}

// TestPaginationAcrossThreeCells pages with limit and marker through servers in three cells and
// cell0: every server exactly once, in the order of the unpaged listing.
func TestPaginationAcrossThreeCells(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "a", cell1, "h1:4:8192:100")
	dp.AddCell(t, "b", cell2, "h1:4:8192:100")
	dp.AddCell(t, "c", cell3, "h1:4:8192:100")
	addFlavor(t, c, "1", 1, 512)
	addFlavor(t, c, "huge", 64, 1<<20)
	for i := 0; i < 11; i++ {
		createAndWait(t, c, fmt.Sprintf("vm%02d", i), "p1", "1")
	}
	createAndWait(t, c, "buried", "p1", "huge")
	for _, sortBy := range []struct{ keys, dirs []string }{{nil, nil}, {[]string{"name"}, []string{"asc"}}} {
		full := pageThrough(t, dp, api.ServerQuery{ProjectID: "p1", SortKeys: sortBy.keys, SortDirs: sortBy.dirs, Limit: 1000})
		if len(full) != 12 {
			t.Fatalf("full listing: got %d, want 12", len(full))
		}
		cells := map[string]bool{}
		for _, s := range full {
			cells[s.CellUUID] = true
		}
		if len(cells) != 4 {
			t.Fatalf("servers in %d cells, want 3 cells and cell0", len(cells))
		}
		paged := pageThrough(t, dp, api.ServerQuery{ProjectID: "p1", Limit: 5, SortKeys: sortBy.keys, SortDirs: sortBy.dirs})
		if fmt.Sprint(ids(paged)) != fmt.Sprint(ids(full)) {
			t.Fatalf("sort %v: paged %v, want %v", sortBy.keys, ids(paged), ids(full))
		}
	}
	if _, err := c.Servers(ctxT(t), api.ServerQuery{ProjectID: "p1", Marker: "aaaaaaaa-0000-4000-8000-000000000000"}); client.CodeOf(err) != api.CodeMarkerNotFound {
		t.Fatalf("unknown marker: got %v, want marker_not_found", err)
	}
}

// pageThrough lists every page of q (marker to marker) while every cell is up. A page that
// reports a down cell skipped that cell's servers, as it must (a cell a loaded machine's
// gossip or a slow answer marked down for a moment): the walk starts again once every cell
// is up, at most 5 times.
func pageThrough(t *testing.T, dp *testcluster.DataPlane, q api.ServerQuery) []api.Server {
	t.Helper()
	for walk := 0; walk < 5; walk++ {
		var paged []api.Server
		q.Marker = ""
		complete := true
		for page := 0; page < 10 && complete; page++ {
			l, err := dp.Client.Servers(ctxT(t), q)
			if err != nil {
				t.Fatal(err)
			}
			if len(l.DownCells) > 0 {
				t.Logf("walk %d, page %d: cells %v reported down; starting again once every cell is up", walk, page, l.DownCells)
				complete = false
				break
			}
			paged = append(paged, l.Servers...)
			if len(l.Servers) < q.Limit {
				return paged
			}
			q.Marker = l.Servers[len(l.Servers)-1].ID
		}
		testkit.WaitFor(t, "every cell up", 15*time.Second, func() bool {
			for _, cell := range []string{cell1, cell2, cell3} {
				if !dp.Registry.Up(cell) {
					return false
				}
			}
			return true
		})
	}
	t.Fatal("no walk through the pages saw every cell up")
	return nil
}

// TestDeleteWhileBuilding deletes a server right after creating it: whichever way the race
// goes, the server ends up gone everywhere.
func TestDeleteWhileBuilding(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	cond := dp.AddCell(t, "a", cell1, hosts)
	addFlavor(t, c, "1", 1, 512)
	for i := 0; i < 5; i++ {
		s, err := c.CreateServer(ctxT(t), api.ServerCreateSpec{Name: "vm", FlavorRef: "1", ProjectID: "p1", UserID: "u"})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.DeleteServer(ctxT(t), s.ID); err != nil {
			t.Fatalf("delete while building: %v", err)
		}
		testkit.WaitFor(t, "server gone", 15*time.Second, func() bool {
			_, err := c.Server(ctxT(t), s.ID)
			return client.IsNotFound(err)
		})
		stats := cellStats(t, cond.Addr)
		testkit.WaitFor(t, "no live instance in the cell", 15*time.Second, func() bool {
			stats = cellStats(t, cond.Addr)
			return stats.Instances == 0
		})
	}
}

func cellStats(t *testing.T, addr string) api.CellStats {
	var st api.CellStats
	if _, err := client.New(addr, nil).Do(ctxT(t), "GET", "/v1/stats", nil, nil, &st); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestDiscoverMapInstancesAndGuards(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	cond := dp.AddCell(t, "a", cell1, "h1:8:8192:100")
	cc := client.New(cond.Addr, nil)
	// A new compute host appears; discovery maps it once.
	if _, err := cc.Do(ctxT(t), "POST", "/v1/compute-hosts", nil, api.ComputeHostCreate{Name: "h2", VCPUs: 8, RAMMB: 8192, DiskGB: 100}, nil); err != nil {
		t.Fatal(err)
	}
	for want := 1; want >= 0; want-- {
		res, err := c.DiscoverHosts(ctxT(t), api.DiscoverHosts{})
		if err != nil || len(res.Mapped) != want {
			t.Fatalf("discover: got %+v (%v), want %d new", res, err, want)
		}
	}
	var hl api.ComputeHostList
	cc.Do(ctxT(t), "GET", "/v1/compute-hosts?mapped=false", nil, nil, &hl)
	if len(hl.Hosts) != 0 {
		t.Fatalf("hosts still unmapped in the cell: %+v", hl.Hosts)
	}

	// Pre-existing instances of the cell, without mappings: map_instances in batches of 2.
	var uuids []string
	for i := 0; i < 5; i++ {
		u := fmt.Sprintf("dddddddd-0000-4000-8000-%012d", i)
		uuids = append(uuids, u)
		in := api.InstanceCreate{UUID: u, Name: "old", ProjectID: "p9", UserID: "u9", Flavor: api.Flavor{ID: "1", VCPUs: 1, RAMMB: 64},
			CreatedAt: time.Date(2025, 1, 1, 0, i, 0, 0, time.UTC)}
		if _, err := cc.Do(ctxT(t), "POST", "/v1/instances", nil, in, nil); err != nil {
			t.Fatal(err)
		}
	}
	var dones []bool
	for i := 0; i < 5; i++ {
		res, err := c.MapInstances(ctxT(t), cell1, api.MapInstances{MaxCount: 2})
		if err != nil {
			t.Fatal(err)
		}
		dones = append(dones, res.Done)
		if res.Done {
			break
		}
	}
	if fmt.Sprint(dones) != "[false false true]" {
		t.Fatalf("batches of 2 over 5 instances: got done flags %v, want [false false true]", dones)
	}
	for _, u := range uuids {
		if m, _, err := c.InstanceMapping(ctxT(t), u); err != nil || m.CellUUID == nil || *m.CellUUID != cell1 {
			t.Fatalf("instance %s: mapping %+v (%v)", u, m, err)
		}
	}
	res, err := c.MapInstances(ctxT(t), cell1, api.MapInstances{MaxCount: 10, Reset: true})
	if err != nil || !res.Done || res.Mapped != 0 || res.Skipped != 5 {
		t.Fatalf("reset: got %+v (%v), want everything skipped", res, err)
	}

	// Guards: a host with instances cannot be unmapped; a cell with live instances cannot go.
	if err := c.DeleteHost(ctxT(t), "h1", cell1); client.CodeOf(err) != api.CodeInstancesExist {
		t.Fatalf("delete host with instances: got %v, want instances_exist", err)
	}
	if err := c.DeleteCell(ctxT(t), cell1, true); client.CodeOf(err) != api.CodeInstancesExist {
		t.Fatalf("delete cell with instances: got %v, want instances_exist", err)
	}
	sort.Strings(uuids)
	for _, u := range uuids {
		if _, err := cc.Do(ctxT(t), "DELETE", "/v1/instances/"+u, nil, nil, nil); err != nil {
			t.Fatal(err)
		}
	}
	v, err := c.VerifyInstance(ctxT(t), uuids[0])
	if err != nil || v.Instance != "deleted" {
		t.Fatalf("verify a deleted instance: got %+v (%v), want deleted", v, err)
	}
	if err := c.DeleteHost(ctxT(t), "h2", cell1); err != nil {
		t.Fatalf("delete an empty host: %v", err)
	}
	cc.Do(ctxT(t), "GET", "/v1/compute-hosts?mapped=false", nil, nil, &hl)
	if len(hl.Hosts) != 1 || hl.Hosts[0].Name != "h2" {
		t.Fatalf("unmapped host h2 must be unflagged in the cell, got %+v", hl.Hosts)
	}
	if err := c.DeleteCell(ctxT(t), cell1, false); client.CodeOf(err) != api.CodeHostsMapped {
		t.Fatalf("delete cell with hosts: got %v, want hosts_mapped", err)
	}
	if err := c.DeleteCell(ctxT(t), cell1, true); err != nil {
		t.Fatalf("forced delete of a cell whose instances are all deleted: %v", err)
	}
}

// TestPeriodicDiscoveryRunsOnTheLeader maps a new compute host without any operator action
// when discovery runs as a leader duty.
func TestPeriodicDiscoveryRunsOnTheLeader(t *testing.T) {
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) {
		c.DiscoverInterval = 100 * time.Millisecond
	}})
	cond := dp.AddCell(t, "a", cell1, "h1:8:8192:100")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); dp.Node.Node.RunAsLeader(ctx, dp.Proxy.DiscoverPeriodically) }()
	t.Cleanup(func() { cancel(); <-done })
	if _, err := client.New(cond.Addr, nil).Do(ctxT(t), "POST", "/v1/compute-hosts", nil,
		api.ComputeHostCreate{Name: "late", VCPUs: 4, RAMMB: 4096, DiskGB: 10}, nil); err != nil {
		t.Fatal(err)
	}
	testkit.WaitFor(t, "the new host mapped by the leader", 15*time.Second, func() bool {
		h, _ := dp.Client.Hosts(ctxT(t), cell1)
		for _, m := range h {
			if m.Host == "late" {
				return true
			}
		}
		return false
	})
}

// TestDiscoverHostsWritesInBatches: discover_hosts writes its new host mappings in
// transactions of at most DiscoverBatch, so a cell with more new hosts than a transaction may
// hold (fsm.MaxTxnOps) is still mapped.
func TestDiscoverHostsWritesInBatches(t *testing.T) {
	dp := testcluster.StartDataPlane(t, &testcluster.DataPlaneOptions{Proxy: func(c *cellproxy.Config) { c.DiscoverBatch = 2 }})
	cond := dp.AddCell(t, "a", cell1, "h0:8:8192:100")
	cc := client.New(cond.Addr, nil)
	for i := 1; i <= 5; i++ {
		if _, err := cc.Do(ctxT(t), "POST", "/v1/compute-hosts", nil, api.ComputeHostCreate{Name: fmt.Sprintf("h%d", i), VCPUs: 8, RAMMB: 8192, DiskGB: 100}, nil); err != nil {
			t.Fatal(err)
		}
	}
	applied := func() uint64 {
		st, err := dp.Node.Node.Status(ctxT(t))
		if err != nil {
			t.Fatal(err)
		}
		return st.AppliedIndex
	}
	before := applied()
	res, err := dp.Client.DiscoverHosts(ctxT(t), api.DiscoverHosts{CellUUID: cell1})
	if err != nil || len(res.Mapped) != 5 {
		t.Fatalf("discover: %+v, %v; want 5 new mappings", res, err)
	}
	if writes := applied() - before; writes != 3 {
		t.Fatalf("5 new mappings were written in %d transactions, want 3 of at most 2", writes)
	}
	hosts, err := dp.Client.Hosts(ctxT(t), cell1)
	if err != nil || len(hosts) != 6 {
		t.Fatalf("host mappings of the cell: %v, %v; want 6", hosts, err)
	}
}
