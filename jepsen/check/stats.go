package check

import (
	"strings"

	"github.com/cellmap/cellmap/jepsen/history"
)

// Counts are operation outcomes.
type Counts struct {
	OK   int `json:"ok"`
	Fail int `json:"fail"`
	Info int `json:"info"`
}

func (c *Counts) add(k history.Kind) {
	switch k {
	case history.KindOK:
		c.OK++
	case history.KindFail:
		c.Fail++
	default:
		c.Info++
	}
}

// Stats summarise a history.
type Stats struct {
	DurationS float64 `json:"duration_s"`
	Episodes  int     `json:"episodes"`
	Ops       int     `json:"ops"`
	Outcomes  Counts  `json:"outcomes"`
	// ByOp counts outcomes per workload/operation, e.g. "register/cas".
	ByOp map[string]*Counts `json:"by_op"`
	// Faults counts nemesis faults per name; Skipped those that could not start.
	Faults     int            `json:"faults"`
	FaultKinds map[string]int `json:"fault_kinds"`
	Skipped    int            `json:"faults_skipped"`
	StatusPoll int            `json:"status_polls"`
}

// ComputeStats counts operations and faults.
func ComputeStats(events []history.Event) Stats {
	s := Stats{ByOp: map[string]*Counts{}, FaultKinds: map[string]int{}, DurationS: float64(history.Last(events)) / 1e9}
	for _, op := range history.Ops(events) {
		s.Ops++
		k := op.Outcome()
		s.Outcomes.add(k)
		name := op.Invoke.Workload + "/" + op.Invoke.F
		if s.ByOp[name] == nil {
			s.ByOp[name] = &Counts{}
		}
		s.ByOp[name].add(k)
	}
	for _, e := range events {
		switch {
		case e.Kind == history.KindNemesis && e.Phase == history.PhaseStart:
			if strings.HasPrefix(e.Detail, "skipped") || strings.HasPrefix(e.Detail, "error") {
				s.Skipped++
				continue
			}
			s.Faults++
			s.FaultKinds[e.F]++
		case e.Kind == history.KindStatus:
			s.StatusPoll++
		case e.Kind == history.KindPhase && e.F == history.PhaseEpisodeStart:
			s.Episodes++
		}
	}
	return s
}
