package compute

import (
	"errors"
	"net/http"
	"net/url"
	"testing"
)

// TestNegotiate: the microversion a request is served with, against Nova's rules (wsgi.py
// set_api_version_request, microversion_parse.get_version, api_version_request.py).
func TestNegotiate(t *testing.T) {
	for _, tc := range []struct {
		name    string
		headers [][2]string
		want    string
		status  int // of the fault, 0 when negotiation succeeds
		message string
	}{
		{name: "no header is 2.1", want: "2.1"},
		{name: "standard header", headers: [][2]string{{HeaderAPIVersion, "compute 2.69"}}, want: "2.69"},
		{name: "latest is the maximum", headers: [][2]string{{HeaderAPIVersion, "compute latest"}}, want: "2.92"},
		{name: "legacy header", headers: [][2]string{{HeaderLegacyAPIVersion, "2.69"}}, want: "2.69"},
		{name: "legacy latest", headers: [][2]string{{HeaderLegacyAPIVersion, "latest"}}, want: "2.92"},
		{name: "service name case-insensitive", headers: [][2]string{{HeaderAPIVersion, "COMPUTE 2.3"}}, want: "2.3"},
		{name: "extra spaces", headers: [][2]string{{HeaderAPIVersion, "  compute   2.5 "}}, want: "2.5"},
		{name: "other services ignored", headers: [][2]string{{HeaderAPIVersion, "placement 1.2, compute 2.5"}}, want: "2.5"},
		{name: "the last compute value wins", headers: [][2]string{{HeaderAPIVersion, "compute 2.5, compute 2.6"}}, want: "2.6"},
		{name: "folded header lines", headers: [][2]string{{HeaderAPIVersion, "compute 2.5"}, {HeaderAPIVersion, "compute 2.7"}}, want: "2.7"},
		{name: "standard wins over legacy", headers: [][2]string{{HeaderAPIVersion, "compute 2.10"}, {HeaderLegacyAPIVersion, "2.20"}}, want: "2.10"},
		{name: "legacy used when standard names no compute", headers: [][2]string{{HeaderAPIVersion, "placement 1.2"}, {HeaderLegacyAPIVersion, "2.20"}}, want: "2.20"},
		{name: "legacy last value", headers: [][2]string{{HeaderLegacyAPIVersion, "2.3, 2.4"}}, want: "2.4"},
		{name: "minimum", headers: [][2]string{{HeaderAPIVersion, "compute 2.1"}}, want: "2.1"},
		{name: "2.0 is below the minimum", headers: [][2]string{{HeaderAPIVersion, "compute 2.0"}}, status: 406,
			message: "Version 2.0 is not supported by the API. Minimum is 2.1 and maximum is 2.92."},
		{name: "above the maximum", headers: [][2]string{{HeaderAPIVersion, "compute 2.93"}}, status: 406,
			message: "Version 2.93 is not supported by the API. Minimum is 2.1 and maximum is 2.92."},
		{name: "another major", headers: [][2]string{{HeaderLegacyAPIVersion, "3.0"}}, status: 406,
			message: "Version 3.0 is not supported by the API. Minimum is 2.1 and maximum is 2.92."},
		{name: "not a version", headers: [][2]string{{HeaderAPIVersion, "compute 2.x"}}, status: 400,
			message: "API Version String 2.x is of invalid format. Must be of format MajorNum.MinorNum."},
		{name: "leading zero", headers: [][2]string{{HeaderAPIVersion, "compute 2.01"}}, status: 400,
			message: "API Version String 2.01 is of invalid format. Must be of format MajorNum.MinorNum."},
		{name: "latest is lower case only", headers: [][2]string{{HeaderAPIVersion, "compute LATEST"}}, status: 400,
			message: "API Version String LATEST is of invalid format. Must be of format MajorNum.MinorNum."},
		{name: "three parts", headers: [][2]string{{HeaderLegacyAPIVersion, "2.1.1"}}, status: 400,
			message: "API Version String 2.1.1 is of invalid format. Must be of format MajorNum.MinorNum."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			for _, kv := range tc.headers {
				h.Add(kv[0], kv[1])
			}
			v, err := Negotiate(h)
			if tc.status == 0 {
				if err != nil || v.String() != tc.want {
					t.Fatalf("got %v %v, want %s", v, err, tc.want)
				}
				return
			}
			var f *Fault
			if !errors.As(err, &f) || f.Status != tc.status || f.Message != tc.message {
				t.Fatalf("got %v %v, want %d %q", v, err, tc.status, tc.message)
			}
			sentinel := map[int]error{400: ErrVersionFormat, 406: ErrVersionUnsupported}[tc.status]
			if !errors.Is(err, sentinel) {
				t.Fatalf("%v does not wrap %v", err, sentinel)
			}
		})
	}
}

// TestVersionHeaders: a response names the version it was served with in both headers and
// varies on both (Nova's wsgi.Resource).
func TestVersionHeaders(t *testing.T) {
	h := http.Header{}
	setVersionHeaders(h, V(69))
	if h.Get(HeaderAPIVersion) != "compute 2.69" || h.Get(HeaderLegacyAPIVersion) != "2.69" {
		t.Fatalf("headers %v", h)
	}
	if vary := h.Values("Vary"); len(vary) != 2 || vary[0] != HeaderAPIVersion || vary[1] != HeaderLegacyAPIVersion {
		t.Fatalf("Vary %v", vary)
	}
}

// TestFaultNames: the key of Nova's fault body for each status (wsgi.Fault._fault_names);
// any other status, 406 and 500 included, is computeFault.
func TestFaultNames(t *testing.T) {
	for status, want := range map[int]string{400: "badRequest", 401: "unauthorized", 403: "forbidden",
		404: "itemNotFound", 405: "badMethod", 409: "conflictingRequest", 413: "overLimit", 415: "badMediaType",
		429: "overLimit", 501: "notImplemented", 503: "serviceUnavailable", 406: "computeFault", 500: "computeFault",
		502: "computeFault"} {
		if got := FaultName(status); got != want {
			t.Errorf("%d: %s, want %s", status, got, want)
		}
		body := faultBody(status, "m")
		inner, ok := body[want].(map[string]any)
		if len(body) != 1 || !ok || inner["code"] != status || inner["message"] != "m" {
			t.Errorf("%d: body %v", status, body)
		}
	}
}

// TestNextQuery: a next link repeats the request's parameters as Python's urlencode of Nova's
// OrderedDict(sorted(params)) does, marker replaced in place or appended last.
func TestNextQuery(t *testing.T) {
	for _, tc := range []struct {
		query, want string
	}{
		{"limit=2", "limit=2&marker=M"},
		{"sort_key=display_name&limit=2", "limit=2&sort_key=display_name&marker=M"},
		{"marker=OLD&limit=2", "limit=2&marker=M"},
		{"name=a+b&limit=1", "limit=1&name=a+b&marker=M"},
		{"status=ERROR&status=ACTIVE&limit=1", "limit=1&status=ERROR&marker=M"},
		{"all_tenants=1&limit=1&zz=1", "all_tenants=1&limit=1&zz=1&marker=M"},
	} {
		v, _ := url.ParseQuery(tc.query)
		if got := nextQuery(v, "M"); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.query, got, tc.want)
		}
	}
}
