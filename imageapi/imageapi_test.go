package imageapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/internal/testing/testcluster"
)

func get(t *testing.T, url, token string) (int, map[string]any, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var body map[string]any
	json.Unmarshal(raw, &body)
	return resp.StatusCode, body, string(raw)
}

// TestImageAPI: version discovery is public (300, as Glance), images need a token of any role
// (a reader here; none is 401): list newest first with name, limit and marker, show by id,
// 404 for an unknown id.
func TestImageAPI(t *testing.T) {
	dp := testcluster.StartDataPlane(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for _, name := range []string{"cirros", "debian", "ubuntu"} {
		if _, err := dp.Client.CreateImage(ctx, api.Image{ID: name + "-id", Name: name, DiskFormat: "qcow2", ContainerFormat: "bare"}); err != nil {
			t.Fatal(err)
		}
	}
	reader, err := dp.Client.CreateToken(ctx, api.TokenCreate{Description: "r", Role: "reader", ProjectID: "p1"})
	if err != nil {
		t.Fatal(err)
	}
	base := dp.URL + "/image"
	if status, body, raw := get(t, base, ""); status != http.StatusMultipleChoices || body["versions"] == nil {
		t.Fatalf("versions: %d %s", status, raw)
	}
	if status, _, _ := get(t, base+"/v2/images", ""); status != http.StatusUnauthorized {
		t.Fatalf("no token: %d", status)
	}
	names := func(body map[string]any) []string {
		var out []string
		for _, i := range body["images"].([]any) {
			out = append(out, i.(map[string]any)["name"].(string))
		}
		return out
	}
	status, body, raw := get(t, base+"/v2/images", reader.Secret)
	if got := names(body); status != 200 || len(got) != 3 || got[0] != "ubuntu" || body["next"] != nil {
		t.Fatalf("list: %d %s", status, raw)
	}
	_, body, raw = get(t, base+"/v2/images?limit=2&sort_key=name&sort_dir=asc", reader.Secret)
	if got := names(body); len(got) != 2 || got[0] != "cirros" || body["next"] != "/v2/images?limit=2&marker=debian-id&sort_dir=asc&sort_key=name" {
		t.Fatalf("page: %s", raw)
	}
	_, body, raw = get(t, base+"/v2/images?limit=2&sort_key=name&sort_dir=asc&marker=debian-id", reader.Secret)
	if got := names(body); len(got) != 1 || got[0] != "ubuntu" {
		t.Fatalf("page 2: %s", raw)
	}
	_, body, raw = get(t, base+"/v2/images?name=debian", reader.Secret)
	if got := names(body); len(got) != 1 || got[0] != "debian" {
		t.Fatalf("name filter: %s", raw)
	}
	if status, body, raw := get(t, base+"/v2/images/cirros-id", reader.Secret); status != 200 || body["status"] != "active" || body["disk_format"] != "qcow2" {
		t.Fatalf("show: %d %s", status, raw)
	}
	if status, body, raw := get(t, base+"/v2/images/nope", reader.Secret); status != http.StatusNotFound || body["code"] != "404 Not Found" {
		t.Fatalf("unknown image: %d %s", status, raw)
	}
}
