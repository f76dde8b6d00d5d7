package cellproxy_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

// hostsOf builds n compute hosts named prefix1..prefixN with room for many servers; the first
// has by far the most free RAM, so a conductor puts every server it is not told to keep away
// there: parallel placements of one group race for it.
func hostsOf(prefix string, n int) string {
	hs := []string{fmt.Sprintf("%s1:64:1048576:1000", prefix)}
	for i := 2; i <= n; i++ {
		hs = append(hs, fmt.Sprintf("%s%d:64:65536:1000", prefix, i))
	}
	return strings.Join(hs, ",")
}

// TestAntiAffinityParallelCreates: 50 parallel creates into an anti-affinity group across two
// cells with 20 hosts: never two members on one host however the creates race; at most 20
// land, the others end in cell0 with Nova's "no valid host"; the group lists its live members.
// Roles: a service token creates the group and the servers; a reader cannot create a group.
func TestAntiAffinityParallelCreates(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	c := dp.Client
	dp.AddCell(t, "cell1", cell1, hostsOf("a", 10))
	dp.AddCell(t, "cell2", cell2, hostsOf("b", 10))
	addFlavor(t, c, "1", 1, 512)
	svcTok, err := c.CreateToken(ctxT(t), api.TokenCreate{Role: "service", Description: "api tier"})
	if err != nil {
		t.Fatal(err)
	}
	rdTok, err := c.CreateToken(ctxT(t), api.TokenCreate{Role: "reader", Description: "ro"})
	if err != nil {
		t.Fatal(err)
	}
	svc := c.WithToken(svcTok.Secret)
	in := api.ServerGroupCreate{Name: "web", ProjectID: "p1", Policy: "anti-affinity"}
	if _, err := c.WithToken(rdTok.Secret).CreateServerGroup(ctxT(t), in); client.CodeOf(err) != api.CodeForbidden {
		t.Fatalf("a reader created a group: %v", err)
	}
	g, err := svc.CreateServerGroup(ctxT(t), in)
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var ids []string
	var wg sync.WaitGroup
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			s, err := svc.CreateServer(ctxT(t), api.ServerCreateSpec{Name: fmt.Sprintf("web%d", i), FlavorRef: "1", ProjectID: "p1", UserID: "u", Group: g.ID})
			if err != nil {
				t.Errorf("create %d: %v", i, err)
				return
			}
			mu.Lock()
			ids = append(ids, s.ID)
			mu.Unlock()
		}(i)
	}
	wg.Wait()
	onHost := map[string]string{}
	active := 0
	for _, id := range ids {
		s := waitBuilt(t, c, id)
		switch {
		case s.Status == api.StatusActive:
			if other, taken := onHost[s.Host]; taken {
				t.Fatalf("%s and %s of an anti-affinity group on host %s", other, id, s.Host)
			}
			onHost[s.Host] = id
			active++
		case s.Status == api.StatusError && s.CellUUID == api.Cell0UUID && s.Fault != nil:
		default:
			t.Fatalf("server %s: %s in %s", id, s.Status, s.CellUUID)
		}
	}
	if active == 0 || active > 20 {
		t.Fatalf("%d servers placed, want 1 to 20 (one per host)", active)
	}
	got, err := c.WithToken(rdTok.Secret).ServerGroup(ctxT(t), g.ID)
	if err != nil || len(got.Members) != 50 {
		t.Fatalf("group %+v (%v), want its 50 members", got, err)
	}
	t.Logf("%d of 50 placed, one per host", active)
}
