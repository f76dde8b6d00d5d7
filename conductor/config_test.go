package conductor

import (
	"reflect"
	"testing"

	"github.com/cellmap/cellmap/api"
)

func validConfig() *Config {
	c := DefaultConfig()
	c.CellUUID, c.DataDir = testCell, "/tmp/x"
	return c
}

func TestConfigValidate(t *testing.T) {
	if err := validConfig().Validate(); err != nil {
		t.Fatalf("defaults with cell and data dir: got %v, want nil", err)
	}
	tests := []struct {
		name string
		mod  func(*Config)
	}{
		{"no cell", func(c *Config) { c.CellUUID = "" }},
		{"bad cell", func(c *Config) { c.CellUUID = "cell1" }},
		{"upper-case cell", func(c *Config) { c.CellUUID = "11111111-2222-4333-8444-55555555555A" }},
		{"no data dir", func(c *Config) { c.DataDir = "" }},
		{"bad http addr", func(c *Config) { c.HTTPAddr = "localhost" }},
		{"bad gossip addr", func(c *Config) { c.GossipAddr = "127.0.0.1:99999" }},
		{"bad gossip advertise", func(c *Config) { c.GossipAdvertise = "nope" }},
		{"bad join", func(c *Config) { c.Join = []string{"127.0.0.1:1", "x"} }},
		{"bad profile", func(c *Config) { c.GossipProfile = "wan" }},
		{"no name", func(c *Config) { c.Name = "" }},
		{"name with slash", func(c *Config) { c.Name = "a/b" }},
		{"no timeout", func(c *Config) { c.RequestTimeout = 0 }},
		{"host without vcpus", func(c *Config) { c.Hosts = []api.ComputeHostCreate{host("h1", 0, 1, 1)} }},
		{"host without ram", func(c *Config) { c.Hosts = []api.ComputeHostCreate{host("h1", 1, 0, 1)} }},
		{"host with negative disk", func(c *Config) { c.Hosts = []api.ComputeHostCreate{host("h1", 1, 1, -1)} }},
		{"host twice", func(c *Config) { c.Hosts = []api.ComputeHostCreate{host("h1", 1, 1, 1), host("h1", 2, 2, 2)} }},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := validConfig()
			tc.mod(c)
			if err := c.Validate(); err == nil {
				t.Fatalf("got nil error, want one")
			}
		})
	}
}

func TestParseHosts(t *testing.T) {
	tests := []struct {
		spec    string
		want    []api.ComputeHostCreate
		wantErr bool
	}{
		{"", nil, false},
		{"cmp1:16:65536:500", []api.ComputeHostCreate{host("cmp1", 16, 65536, 500)}, false},
		{" a:1:512:0 , b:2:1024:10,", []api.ComputeHostCreate{host("a", 1, 512, 0), host("b", 2, 1024, 10)}, false},
		{"a:1:512", nil, true},
		{"a:1:512:0:9", nil, true},
		{"a:x:512:0", nil, true},
		{"a:0:512:0", nil, true},
		{"a:1:0:0", nil, true},
		{"a:1:512:-1", nil, true},
		{":1:512:0", nil, true},
		{"a:1:512:0,a:2:512:0", nil, true},
	}
	for _, tc := range tests {
		t.Run(tc.spec, func(t *testing.T) {
			got, err := ParseHosts(tc.spec)
			if (err != nil) != tc.wantErr {
				t.Fatalf("got error %v, want error=%v", err, tc.wantErr)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}
