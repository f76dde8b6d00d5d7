package validate

import (
	"fmt"
	"strings"
	"testing"
)

func TestSizes(t *testing.T) {
	tests := []struct {
		name             string
		vcpus, ram, disk int64
		wantErr          string
	}{
		{"smallest", 1, 1, 0, ""},
		{"at the bound", MaxSize, MaxSize, MaxSize, ""},
		{"no vcpus", 0, 1, 0, "a flavor needs vcpus >= 1, ram_mb >= 1 and disk_gb >= 0"},
		{"no ram", 1, 0, 0, "a flavor needs vcpus >= 1, ram_mb >= 1 and disk_gb >= 0"},
		{"negative disk", 1, 1, -1, "a flavor needs vcpus >= 1, ram_mb >= 1 and disk_gb >= 0"},
		{"vcpus over", MaxSize + 1, 1, 0, "a flavor: vcpus, ram_mb and disk_gb must be at most 2147483647"},
		{"ram over", 1, 1 << 62, 0, "a flavor: vcpus, ram_mb and disk_gb must be at most 2147483647"},
		{"disk at int64's end", 1, 1, 1<<63 - 1, "a flavor: vcpus, ram_mb and disk_gb must be at most 2147483647"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, Sizes("a flavor", tc.vcpus, tc.ram, tc.disk), tc.wantErr) })
	}
}

func TestExtraSpecs(t *testing.T) {
	many := map[string]string{}
	for i := 0; i <= MaxExtraSpecs; i++ {
		many[fmt.Sprint("k", i)] = "v"
	}
	tests := []struct {
		name    string
		in      map[string]string
		wantErr string
	}{
		{"nil", nil, ""},
		{"plain", map[string]string{"hw:cpu_policy": "dedicated", "empty": ""}, ""},
		{"too many", many, "extra_specs has 101 items, more than 100"},
		{"empty key", map[string]string{"": "v"}, "extra_specs key is required"},
		{"control character in a value", map[string]string{"k": "a\u009bb"}, "extra_specs value must not contain control characters"},
		{"long value", map[string]string{"k": strings.Repeat("v", MaxNameLen+1)}, "extra_specs value must be valid UTF-8 of at most 255 characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, ExtraSpecs("extra_specs", tc.in), tc.wantErr) })
	}
}

func TestURL(t *testing.T) {
	tests := []struct {
		name, in, wantErr string
	}{
		{"plain", "rabbit://u:p@h1:5672,u:p@h2:5672/vhost", ""},
		{"template", "{scheme}://{username}:{password}@{hostname}/{path}", ""},
		{"at the bound", strings.Repeat("u", MaxURLLen), ""},
		{"empty", "", "transport_url is required"},
		{"over the bound", strings.Repeat("u", MaxURLLen+1), "transport_url is longer than 4096 bytes"},
		{"invalid UTF-8", "rabbit://h/\xff", "transport_url must be valid UTF-8 without control characters"},
		{"newline", "rabbit://h/\n", "transport_url must be valid UTF-8 without control characters"},
		{"C1 control", "rabbit://h/\u0085", "transport_url must be valid UTF-8 without control characters"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { checkErr(t, URL("transport_url", tc.in), tc.wantErr) })
	}
}
