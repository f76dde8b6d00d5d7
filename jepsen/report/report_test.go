package report

import (
	"bytes"
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/cellmap/cellmap/jepsen/check"
	"github.com/cellmap/cellmap/jepsen/history"
)

func sample() []history.Event {
	rec := history.NewRecorder(nil)
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunStart, Data: []byte(`{"seed":1,"nodes":3}`)})
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseHealthy})
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseEpisodeStart, Episode: 1})
	inv := rec.Invoke(history.Event{Process: 1, Workload: "register", F: "write", Key: "k", Node: "n1", Value: "a"})
	rec.Complete(inv, history.KindOK, history.Event{Value: "a", Rev: 4})
	rec.Record(history.Event{Kind: history.KindNemesis, F: "isolate-leader", Phase: history.PhaseStart, Fault: 1, Targets: []string{"n1"}})
	inv = rec.Invoke(history.Event{Process: 2, Workload: "register", F: "read", Key: "k", Node: "n2"})
	rec.Complete(inv, history.KindOK, history.Event{Value: "a", Rev: 4, ServerIndex: 5})
	inv = rec.Invoke(history.Event{Process: 1, Workload: "register", F: "write", Key: "k", Node: "n1", Value: "b"})
	rec.Complete(inv, history.KindInfo, history.Event{Value: "b", Error: "outcome_unknown"})
	rec.Record(history.Event{Kind: history.KindNemesis, F: "isolate-leader", Phase: history.PhaseStop, Fault: 1})
	rec.Record(history.Event{Kind: history.KindPhase, F: history.PhaseRunEnd})
	return rec.Events()
}

func TestSummaryEndsWithCounts(t *testing.T) {
	rep := check.Analyze(sample(), check.Options{})
	s := Summary(rep)
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if last := lines[len(lines)-1]; last != "6 passed, 0 failed" {
		t.Fatalf("last line %q, want \"6 passed, 0 failed\"\n%s", last, s)
	}
	if !strings.Contains(s, "isolate-leader 1") || !strings.Contains(s, "verdict: PASS") {
		t.Fatalf("summary lacks faults or verdict:\n%s", s)
	}
}

func TestArtifactsRender(t *testing.T) {
	events := sample()
	dir := t.TempDir()
	png1 := filepath.Join(dir, "latency.png")
	if err := WriteLatencyPNG(png1, events); err != nil {
		t.Fatal(err)
	}
	b, _ := os.ReadFile(png1)
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil || img.Bounds().Dx() != plotW {
		t.Fatalf("png: %v", err)
	}
	html := filepath.Join(dir, "lin.html")
	if err := WriteVisualization(html, events, check.Analyze(events, check.Options{}), 5, 0); err != nil {
		t.Fatal(err)
	}
	h, _ := os.ReadFile(html)
	if !bytes.Contains(h, []byte("isolate-leader")) {
		t.Fatal("visualisation lacks the nemesis annotation")
	}
}

func TestFontCoversLabels(t *testing.T) {
	for _, s := range []string{"0123456789", "abcdefghijklmnopqrstuvwxyz", "-.:/%(),>=+_ ?"} {
		for _, r := range s {
			if g, ok := glyphs[r]; !ok || len(g) != 15 {
				t.Fatalf("glyph %q missing or malformed", r)
			}
		}
	}
}
