package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
	"github.com/cellmap/cellmap/internal/testing/testkit"
)

// promQuery asks Prometheus's HTTP API for an instant vector and returns its samples' values
// (ok false while the query fails).
func promQuery(t *testing.T, addr, q string) ([]float64, bool) {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/api/v1/query?query=" + url.QueryEscape(q))
	if err != nil {
		return nil, false
	}
	defer resp.Body.Close()
	var out struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil || out.Status != "success" {
		return nil, false
	}
	var vals []float64
	for _, r := range out.Data.Result {
		s, _ := r.Value[1].(string)
		v, err := strconv.ParseFloat(s, 64)
		if err != nil {
			return nil, false
		}
		vals = append(vals, v)
	}
	return vals, true
}

// waitQuery waits until Prometheus answers q with exactly one sample satisfying ok.
func waitQuery(t *testing.T, addr, what, q string, ok func(v float64) bool) float64 {
	t.Helper()
	var got float64
	testkit.WaitFor(t, what+" ("+q+")", 60*time.Second, func() bool {
		vals, fine := promQuery(t, addr, q)
		if !fine || len(vals) != 1 || !ok(vals[0]) {
			return false
		}
		got = vals[0]
		return true
	})
	return got
}

// TestPrometheusScrapesTheCluster runs Debian's Prometheus against a three-node cluster and
// its two conductors (the nodes with a reader token from a file, as a deployment would) and
// asserts through Prometheus's query API: exactly one leader, every target up, cellmap_cell_up
// turns 0 for a cell whose conductor was killed and 1 after it restarts, request counters move
// with load. Role: /metrics needs reader; the scrape uses a reader token.
func TestPrometheusScrapesTheCluster(t *testing.T) {
	if testing.Short() {
		t.Skip("starts processes")
	}
	prom := testkit.Tool(t, "prometheus", "prometheus", "CELLMAP_PROMETHEUS_REQUIRED")
	procs, _, conds := dataPlaneCluster(t, 3)
	reader, err := procs[0].c.CreateToken(ctx(t, 10*time.Second), api.TokenCreate{Role: "reader", Description: "prometheus"})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "token")
	if err := os.WriteFile(tokenFile, []byte(reader.Secret), 0o600); err != nil {
		t.Fatal(err)
	}
	var nodes, cells []string
	for _, p := range procs {
		nodes = append(nodes, `"`+p.http+`"`)
	}
	for _, c := range conds {
		cells = append(cells, `"`+c.http+`"`)
	}
	config := fmt.Sprintf(`global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: cellmapd
    authorization: {type: Bearer, credentials_file: %s}
    static_configs: [{targets: [%s]}]
  - job_name: cellconductor
    static_configs: [{targets: [%s]}]
`, tokenFile, strings.Join(nodes, ", "), strings.Join(cells, ", "))
	cfgFile := filepath.Join(dir, "prometheus.yml")
	if err := os.WriteFile(cfgFile, []byte(config), 0o600); err != nil {
		t.Fatal(err)
	}
	addr := testkit.FreeAddr(t)
	testcluster.Start(t, "prometheus", prom, "--config.file="+cfgFile, "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr, "--log.level=warn")

	waitQuery(t, addr, "every target up", `sum(up)`, func(v float64) bool { return v == 5 })
	waitQuery(t, addr, "one leader", `sum(cellmap_raft_state{state="Leader"})`, func(v float64) bool { return v == 1 })
	cell := conds[0].cell
	up := fmt.Sprintf(`sum(cellmap_cell_up{job="cellmapd",cell=%q})`, cell)
	waitQuery(t, addr, "the cell up on the three nodes", up, func(v float64) bool { return v == 3 })
	waitQuery(t, addr, "the conductor's own metrics", `sum(cellmap_conductor_compute_hosts)`, func(v float64) bool { return v == 4 })

	if err := conds[0].p.Kill(); err != nil {
		t.Fatal(err)
	}
	waitQuery(t, addr, "the killed cell down on every node", up, func(v float64) bool { return v == 0 })
	startConductor(t, conds[0], conds[1].gossip)
	waitQuery(t, addr, "the restarted cell up again", up, func(v float64) bool { return v == 3 })

	requests := `sum(cellmap_http_requests_total{job="cellmapd",route="/v1/cells",method="get",code="200"})`
	base, _ := promQuery(t, addr, requests)
	start := 0.0
	if len(base) == 1 {
		start = base[0]
	}
	for i := 0; i < 20; i++ {
		if _, err := procs[i%3].c.Cells(ctx(t, 5*time.Second), false); err != nil {
			t.Fatal(err)
		}
	}
	waitQuery(t, addr, "the listings counted", requests, func(v float64) bool { return v >= start+20 })
}
