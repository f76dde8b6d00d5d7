package compute

import (
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// nextLinks returns Nova's "next" link of a list of n items whose last has id lastID: present
// when the page is full, that is when n equals min(limit or max_limit, max_limit). The link
// repeats the request's parameters (one value per name, the greatest, sorted by name) and
// sets marker: in its sorted place when the request had one, else last.
func (q *request) nextLinks(collection string, n int, lastID string, maxLimit int) []link {
	max := maxLimit
	if l := q.r.URL.Query().Get("limit"); l != "" {
		if v, err := strconv.Atoi(l); err == nil && v < max {
			max = v
		}
	}
	if max <= 0 || n != max {
		return nil
	}
	return []link{{Rel: "next", Href: q.appURL() + "/" + collection + "?" + nextQuery(q.r.URL.Query(), lastID)}}
}

// nextQuery encodes the query of a next link (Python's urlencode of Nova's ordered params).
func nextQuery(params url.Values, marker string) string {
	type kv struct{ k, v string }
	var pairs []kv
	for k, vs := range params {
		for _, v := range vs {
			pairs = append(pairs, kv{k, v})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var keys []string
	last := map[string]string{}
	for _, p := range pairs {
		if _, seen := last[p.k]; !seen {
			keys = append(keys, p.k)
		}
		last[p.k] = p.v
	}
	if _, ok := last["marker"]; !ok {
		keys = append(keys, "marker")
	}
	last["marker"] = marker
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = url.QueryEscape(k) + "=" + url.QueryEscape(last[k])
	}
	return strings.Join(parts, "&")
}
