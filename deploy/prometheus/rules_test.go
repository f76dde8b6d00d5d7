// Package prometheus_test checks the shipped Prometheus files with promtool: the alert rules
// parse and their unit tests (alerts_test.yml) pass, and the example configuration parses.
package prometheus_test

import (
	"os/exec"
	"testing"

	"github.com/cellmap/cellmap/internal/testing/testkit"
)

func TestShippedRulesAndConfig(t *testing.T) {
	promtool := testkit.Tool(t, "promtool", "prometheus", "CELLMAP_PROMETHEUS_REQUIRED")
	for _, args := range [][]string{
		{"check", "rules", "alerts.yml"},
		{"test", "rules", "alerts_test.yml"},
		{"check", "config", "--syntax-only", "prometheus.yml"},
	} {
		out, err := exec.Command(promtool, args...).CombinedOutput()
		if err != nil {
			t.Fatalf("promtool %v: %v\n%s", args, err, out)
		}
	}
}
