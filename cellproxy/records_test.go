package cellproxy

import (
	"reflect"
	"testing"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/fsm"
)

func TestFlavorConversions(t *testing.T) {
	created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	stored := fsm.Flavor{ID: "1", Name: "m1.small", VCPUs: 1, RAMMB: 2048, DiskGB: 20, CreatedAt: created, Revision: 9}
	tests := []struct {
		name string
		got  api.Flavor
		want api.Flavor
	}{
		{"a flavor record keeps its created_at and revision", FlavorOut(&stored),
			api.Flavor{ID: "1", Name: "m1.small", VCPUs: 1, RAMMB: 2048, DiskGB: 20, ExtraSpecs: map[string]string{},
				CreatedAt: created, Revision: 9}},
		{"a server's flavor is the size alone", specFlavor(stored),
			api.Flavor{ID: "1", Name: "m1.small", VCPUs: 1, RAMMB: 2048, DiskGB: 20, ExtraSpecs: map[string]string{}}},
		{"extra specs are carried", specFlavor(fsm.Flavor{ID: "2", ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"}}),
			api.Flavor{ID: "2", ExtraSpecs: map[string]string{"hw:cpu_policy": "dedicated"}}},
	}
	for _, tc := range tests {
		if !reflect.DeepEqual(tc.got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, tc.got, tc.want)
		}
	}
}
