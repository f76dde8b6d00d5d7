package conductor

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
)

const fixtureSize = 40

// listFixture builds a cell with fixtureSize instances: created_at in groups of three equal
// times, uuids not in creation order, three projects, two users, five names, three hosts, and
// every fourth instance deleted. It returns every record (deleted ones included).
func listFixture(t testing.TB) (*DB, []api.Instance) {
	t.Helper()
	ctx := context.Background()
	db, _ := openTestDB(t, host("h1", 1000, 1<<20, 10000), host("h2", 1000, 1<<20, 10000), host("h3", 1000, 1<<20, 10000))
	var all []api.Instance
	for i := 0; i < fixtureSize; i++ {
		req := api.InstanceCreate{
			UUID:      testUUID((i*17)%fixtureSize + 1),
			Name:      fmt.Sprintf("vm-%d", i%5),
			ProjectID: fmt.Sprintf("p%d", i%3),
			UserID:    fmt.Sprintf("u%d", i%2),
			Flavor:    flavor(1, int64(i%4+1)*256, 1),
			CreatedAt: t0.Add(time.Duration(i/3) * time.Minute),
		}
		mustCreate(t, db, req)
	}
	for i := 0; i < fixtureSize; i += 4 {
		if _, err := db.DeleteInstance(ctx, testUUID((i*17)%fixtureSize+1)); err != nil {
			t.Fatal(err)
		}
	}
	for i := 0; i < fixtureSize; i++ {
		inst, err := db.Instance(ctx, testUUID(i+1), api.DeletedYes)
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, inst)
	}
	return db, all
}

// refValue is an instance's sort value as text that orders byte-wise like the value itself.
func refValue(in *api.Instance, key string) string {
	switch key {
	case "created_at":
		return in.CreatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
	case "updated_at":
		return in.UpdatedAt.UTC().Format("2006-01-02T15:04:05.000000000Z")
	case "name":
		return in.Name
	case "uuid":
		return in.UUID
	case "project_id":
		return in.ProjectID
	case "host":
		return in.Host
	case "status":
		return in.Status
	}
	panic("unknown key " + key)
}

// refOrder is the full order of a query, written independently of query.go.
func refOrder(sort []SortKey) []SortKey {
	if len(sort) == 0 {
		sort = []SortKey{{Key: "created_at", Desc: true}}
	}
	for _, k := range sort {
		if k.Key == "uuid" {
			return sort
		}
	}
	return append(slices.Clone(sort), SortKey{Key: "uuid"})
}

func refCompare(keys []SortKey, a, b *api.Instance) int {
	for _, k := range keys {
		c := strings.Compare(refValue(a, k.Key), refValue(b, k.Key))
		if k.Desc {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// refList answers a query (without marker, after or limit) by brute force.
func refList(all []api.Instance, q ListQuery) []string {
	var rows []api.Instance
	for _, in := range all {
		switch {
		case (q.Deleted == "" || q.Deleted == api.DeletedNo) && in.Deleted, q.Deleted == api.DeletedOnly && !in.Deleted:
		case q.ProjectID != "" && in.ProjectID != q.ProjectID, q.UserID != "" && in.UserID != q.UserID:
		case q.Host != "" && in.Host != q.Host, q.Status != "" && in.Status != q.Status, q.Name != "" && in.Name != q.Name:
		default:
			rows = append(rows, in)
		}
	}
	keys := refOrder(q.Sort)
	slices.SortFunc(rows, func(a, b api.Instance) int { return refCompare(keys, &a, &b) })
	return uuids(rows)
}

func uuids(rows []api.Instance) []string {
	out := []string{}
	for _, r := range rows {
		out = append(out, r.UUID)
	}
	return out
}

func asc(key string) SortKey  { return SortKey{Key: key} }
func desc(key string) SortKey { return SortKey{Key: key, Desc: true} }

// listCases are queries over the fixture: filters, deleted modes, orders.
var listCases = []struct {
	name string
	q    ListQuery
}{
	{"default", ListQuery{}},
	{"deleted yes", ListQuery{Deleted: api.DeletedYes}},
	{"deleted only", ListQuery{Deleted: api.DeletedOnly}},
	{"project", ListQuery{ProjectID: "p1"}},
	{"project deleted yes", ListQuery{ProjectID: "p2", Deleted: api.DeletedYes}},
	{"project deleted only", ListQuery{ProjectID: "p0", Deleted: api.DeletedOnly}},
	{"project created_at asc", ListQuery{ProjectID: "p1", Sort: []SortKey{asc("created_at")}}},
	{"project created_at asc deleted yes", ListQuery{ProjectID: "p0", Sort: []SortKey{asc("created_at")}, Deleted: api.DeletedYes}},
	{"project and user", ListQuery{ProjectID: "p2", UserID: "u1"}},
	{"project name asc", ListQuery{ProjectID: "p1", Sort: []SortKey{asc("name")}}},
	{"project prefix of another", ListQuery{ProjectID: "p"}},
	{"user and host", ListQuery{UserID: "u0", Host: "h2"}},
	{"status active", ListQuery{Status: api.StatusActive, Deleted: api.DeletedYes}},
	{"status deleted", ListQuery{Status: api.StatusDeleted, Deleted: api.DeletedYes}},
	{"status deleted but deleted=no", ListQuery{Status: api.StatusDeleted}},
	{"name", ListQuery{Name: "vm-3", Deleted: api.DeletedYes}},
	{"no match", ListQuery{ProjectID: "nope"}},
	{"created_at asc", ListQuery{Sort: []SortKey{asc("created_at")}}},
	{"created_at asc deleted only", ListQuery{Sort: []SortKey{asc("created_at")}, Deleted: api.DeletedOnly}},
	{"created_at desc explicit uuid asc", ListQuery{Sort: []SortKey{desc("created_at"), asc("uuid")}}},
	{"created_at desc uuid desc", ListQuery{Sort: []SortKey{desc("created_at"), desc("uuid")}, Deleted: api.DeletedYes}},
	{"name asc created_at desc", ListQuery{Sort: []SortKey{asc("name"), desc("created_at")}, Deleted: api.DeletedYes}},
	{"host desc name asc", ListQuery{Sort: []SortKey{desc("host"), asc("name")}}},
	{"updated_at desc", ListQuery{Sort: []SortKey{desc("updated_at")}, Deleted: api.DeletedYes}},
	{"uuid desc", ListQuery{Sort: []SortKey{desc("uuid")}}},
	{"project asc status desc", ListQuery{Sort: []SortKey{asc("project_id"), desc("status")}, Deleted: api.DeletedYes}},
	{"status asc filtered", ListQuery{Sort: []SortKey{asc("status")}, Deleted: api.DeletedYes, UserID: "u1"}},
}

func TestListMatchesReference(t *testing.T) {
	db, all := listFixture(t)
	for _, tc := range listCases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Limit = MaxListLimit
			got, err := db.ListInstances(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if want := refList(all, tc.q); !reflect.DeepEqual(uuids(got), want) {
				t.Fatalf("got  %v\nwant %v", uuids(got), want)
			}
		})
	}
}

func TestListTiesBrokenByUUID(t *testing.T) {
	db, _ := listFixture(t)
	for _, sort := range [][]SortKey{nil, {asc("created_at")}, {asc("name")}} {
		got, err := db.ListInstances(context.Background(), ListQuery{Sort: sort, Deleted: api.DeletedYes})
		if err != nil {
			t.Fatal(err)
		}
		key := "created_at"
		if sort != nil {
			key = sort[0].Key
		}
		ties := 0
		for i := 1; i < len(got); i++ {
			if refValue(&got[i-1], key) == refValue(&got[i], key) {
				ties++
				if got[i-1].UUID >= got[i].UUID {
					t.Fatalf("sort %v: rows %d and %d tie on %s but uuids %s, %s are not ascending", sort, i-1, i, key, got[i-1].UUID, got[i].UUID)
				}
			}
		}
		if ties == 0 {
			t.Fatalf("sort %v: got no ties, want the fixture to have some", sort)
		}
	}
}

// afterOf is the after position of a row for a query's order.
func afterOf(sort []SortKey, in *api.Instance) []string {
	var out []string
	for _, k := range refOrder(sort) {
		switch k.Key {
		case "created_at":
			out = append(out, in.CreatedAt.Format(time.RFC3339Nano))
		case "updated_at":
			out = append(out, in.UpdatedAt.Format(time.RFC3339Nano))
		default:
			out = append(out, refValue(in, k.Key))
		}
	}
	return out
}

// page lists every row of q in pages of size, by marker or by after position.
func page(t *testing.T, db *DB, q ListQuery, size int, byAfter bool) []string {
	t.Helper()
	out := []string{}
	q.Limit = size
	for n := 0; ; n++ {
		if n > fixtureSize+1 {
			t.Fatalf("paging does not end")
		}
		rows, err := db.ListInstances(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) > size {
			t.Fatalf("got a page of %d rows, want at most %d", len(rows), size)
		}
		out = append(out, uuids(rows)...)
		if len(rows) < size {
			return out
		}
		last := rows[len(rows)-1]
		if byAfter {
			q.After = afterOf(q.Sort, &last)
		} else {
			q.Marker = last.UUID
		}
	}
}

func TestListPaging(t *testing.T) {
	db, all := listFixture(t)
	for _, tc := range listCases {
		for _, size := range []int{1, 7, 10} {
			t.Run(fmt.Sprintf("%s/limit %d", tc.name, size), func(t *testing.T) {
				want := refList(all, tc.q)
				byMarker := page(t, db, tc.q, size, false)
				if !reflect.DeepEqual(byMarker, want) {
					t.Fatalf("marker paging: got  %v\nwant %v", byMarker, want)
				}
				if byAfter := page(t, db, tc.q, size, true); !reflect.DeepEqual(byAfter, byMarker) {
					t.Fatalf("after paging: got  %v\nwant %v (marker paging)", byAfter, byMarker)
				}
			})
		}
	}
}

// after answers rows of q strictly after pos by brute force.
func refAfter(all []api.Instance, q ListQuery, pos *api.Instance) []string {
	byUUID := map[string]*api.Instance{}
	for i := range all {
		byUUID[all[i].UUID] = &all[i]
	}
	out := []string{}
	for _, u := range refList(all, q) {
		if refCompare(refOrder(q.Sort), byUUID[u], pos) > 0 {
			out = append(out, u)
		}
	}
	return out
}

func TestListMarkerOfDeletedInstance(t *testing.T) {
	db, all := listFixture(t)
	var marker *api.Instance
	for i := range all {
		if all[i].Deleted && all[i].Name != "" {
			marker = &all[i]
			break
		}
	}
	for _, tc := range listCases {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.Marker, q.Limit = marker.UUID, MaxListLimit
			got, err := db.ListInstances(context.Background(), q)
			if err != nil {
				t.Fatal(err)
			}
			if want := refAfter(all, tc.q, marker); !reflect.DeepEqual(uuids(got), want) {
				t.Fatalf("after deleted marker %s: got  %v\nwant %v", marker.UUID, uuids(got), want)
			}
		})
	}
}

func TestListAfterPositions(t *testing.T) {
	db, all := listFixture(t)
	zero := "00000000-0000-0000-0000-000000000000"
	positions := map[string]*api.Instance{
		"between rows": {CreatedAt: t0.Add(5*time.Minute + 30*time.Second), UUID: zero, UpdatedAt: t0,
			Name: "vm-22", Host: "h2", ProjectID: "p1", Status: "B"},
		"inside a tie": {CreatedAt: t0.Add(4 * time.Minute), UUID: testUUID(fixtureSize / 2), UpdatedAt: t0.Add(25 * time.Hour),
			Name: "vm-2", Host: "h1", ProjectID: "p0", Status: api.StatusActive},
		"before everything": {CreatedAt: t0.Add(-time.Hour), UUID: zero, UpdatedAt: t0.Add(-time.Hour)},
		"after everything": {CreatedAt: t0.Add(time.Hour), UUID: "ffffffff-ffff-ffff-ffff-ffffffffffff",
			UpdatedAt: t0.Add(100 * time.Hour), Name: "zz", Host: "zz", ProjectID: "zz", Status: "ZZ"},
	}
	for pname, pos := range positions {
		for _, tc := range listCases {
			t.Run(pname+"/"+tc.name, func(t *testing.T) {
				q := tc.q
				q.After, q.Limit = afterOf(q.Sort, pos), MaxListLimit
				got, err := db.ListInstances(context.Background(), q)
				if err != nil {
					t.Fatal(err)
				}
				if want := refAfter(all, tc.q, pos); !reflect.DeepEqual(uuids(got), want) {
					t.Fatalf("after %v: got  %v\nwant %v", q.After, uuids(got), want)
				}
			})
		}
	}
}

func TestParseListQuery(t *testing.T) {
	tests := []struct {
		raw  string
		want ListQuery
	}{
		{"", ListQuery{Sort: []SortKey{desc("created_at")}}},
		{"sort_dir=asc", ListQuery{Sort: []SortKey{asc("created_at")}}},
		{"sort_key=name&sort_key=host", ListQuery{Sort: []SortKey{desc("name"), desc("host")}}},
		{"sort_key=name&sort_dir=asc&sort_key=host&sort_dir=desc", ListQuery{Sort: []SortKey{asc("name"), desc("host")}}},
		{"project_id=p&user_id=u&host=h&status=ACTIVE&name=n&deleted=only&limit=5&marker=" + testUUID(1),
			ListQuery{ProjectID: "p", UserID: "u", Host: "h", Status: "ACTIVE", Name: "n", Deleted: "only", Limit: 5,
				Marker: testUUID(1), Sort: []SortKey{desc("created_at")}}},
		{`after=["2026-01-02T03:04:05.5Z","` + testUUID(1) + `"]&unknown=ignored`,
			ListQuery{After: []string{"2026-01-02T03:04:05.5Z", testUUID(1)}, Sort: []SortKey{desc("created_at")}}},
	}
	for _, tc := range tests {
		t.Run(tc.raw, func(t *testing.T) {
			v, _ := url.ParseQuery(tc.raw)
			got, err := ParseListQuery(v)
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, %v, want %+v", got, err, tc.want)
			}
		})
	}
}

func TestParseListQueryRejects(t *testing.T) {
	u := testUUID(1)
	for _, raw := range []string{
		"limit=0", "limit=-1", "limit=10001", "limit=ten", "limit=1&limit=2",
		"sort_key=bogus", "sort_key=", "sort_key=name&sort_key=name", "sort_key=name&sort_dir=asc&sort_dir=desc",
		"sort_dir=asc&sort_dir=desc", "sort_dir=up", "deleted=maybe", "deleted=true",
		"marker=not-a-uuid", "marker=" + u + "&after=" + url.QueryEscape(`["2026-01-02T03:04:05Z","`+u+`"]`),
		"after=nope", "after=null", "after=[]", "after=[1,2]", `after=["2026-01-02T03:04:05Z"]`,
		`after=["yesterday","` + u + `"]`, `after=["2026-01-02T03:04:05Z","not-a-uuid"]`,
		`after=["3000-01-02T03:04:05Z","` + u + `"]`, "after=a&after=b",
		"project_id=a&project_id=b", "name=%00", "host=" + strings.Repeat("h", 256),
	} {
		t.Run(raw, func(t *testing.T) {
			v, err := url.ParseQuery(raw)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ParseListQuery(v); !errors.Is(err, ErrInvalid) {
				t.Fatalf("got %v, want ErrInvalid", err)
			}
		})
	}
}

func TestListInstancesRejects(t *testing.T) {
	db, _ := listFixture(t)
	tests := []struct {
		name string
		q    ListQuery
		want error
	}{
		{"unknown marker", ListQuery{Marker: testUUID(999)}, ErrMarkerNotFound},
		{"bad marker", ListQuery{Marker: "x"}, ErrInvalid},
		{"negative limit", ListQuery{Limit: -1}, ErrInvalid},
		{"limit too big", ListQuery{Limit: MaxListLimit + 1}, ErrInvalid},
		{"unknown sort key", ListQuery{Sort: []SortKey{asc("flavor")}}, ErrInvalid},
		{"after too short", ListQuery{Sort: []SortKey{asc("name")}, After: []string{"vm-1"}}, ErrInvalid},
		{"bad deleted", ListQuery{Deleted: "all"}, ErrInvalid},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := db.ListInstances(context.Background(), tc.q); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}

func TestListHonoursContext(t *testing.T) {
	db, _ := listFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := db.ListInstances(ctx, ListQuery{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("got %v, want context.Canceled", err)
	}
}

// BenchmarkList100k pages through 100k instances: the default order walks the created_at index,
// name order sorts in memory.
func BenchmarkList100k(b *testing.B) {
	const n = 100_000
	db, _ := openTestDB(b, host("h1", validate.MaxSize, validate.MaxSize, validate.MaxSize)) // room for 100k 1-vcpu servers
	db.bolt.NoSync = true
	ctx := context.Background()
	for i := 0; i < n; i++ {
		req := buildReq(i, flavor(1, 1, 1))
		req.UUID = fmt.Sprintf("%08x-0000-4000-8000-%012x", (i*7919)%n, i)
		if _, _, err := db.CreateInstance(ctx, req); err != nil {
			b.Fatal(err)
		}
	}
	for _, bc := range []struct {
		name string
		q    ListQuery
	}{
		{"default first page", ListQuery{Limit: 100}},
		{"created_at asc first page", ListQuery{Limit: 100, Sort: []SortKey{asc("created_at")}}},
		{"default deep page", ListQuery{Limit: 100, Marker: fmt.Sprintf("%08x-0000-4000-8000-%012x", (50000*7919)%n, 50000)}},
		{"name first page", ListQuery{Limit: 100, Sort: []SortKey{asc("name")}}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				rows, err := db.ListInstances(ctx, bc.q)
				if err != nil || len(rows) != 100 {
					b.Fatalf("got %d rows, %v", len(rows), err)
				}
			}
		})
	}
}

func TestTopRowsKeepsTheFirstRows(t *testing.T) {
	const n = 5000
	for _, limit := range []int{1, 10, 3000} {
		p, err := planList(ListQuery{Sort: []SortKey{asc("name")}, Limit: limit})
		if err != nil {
			t.Fatal(err)
		}
		top := topRows{p: p, limit: limit}
		var want []string
		for i := 0; i < n; i++ {
			j := (i * 7919) % n // a permutation of 0..n-1
			top.add(&listRow{SortRow: api.SortRow{UUID: testUUID(j), Name: fmt.Sprintf("vm-%05d", j/2)}})
			want = append(want, testUUID(i))
		}
		var got []string
		for _, r := range top.sorted() {
			got = append(got, r.UUID)
		}
		if !reflect.DeepEqual(got, want[:limit]) {
			t.Fatalf("limit %d: got %d rows starting %v, want the first %d in order", limit, len(got), got[:min(3, len(got))], limit)
		}
	}
}
