package nemesis

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// ScheduleConfig shapes fault schedules.
type ScheduleConfig struct {
	// LeadIn is the quiet time at the start of each episode, before the first fault (the
	// run is INCOMPLETE when too few operations succeed in it).
	LeadIn time.Duration
	// GapMin and GapMax bound the quiet time between two faults.
	GapMin, GapMax time.Duration
	// Tail is the end of an episode in which no fault starts.
	Tail time.Duration
}

// DefaultScheduleConfig returns the CI settings.
func DefaultScheduleConfig() ScheduleConfig {
	return ScheduleConfig{LeadIn: 5 * time.Second, GapMin: 2 * time.Second, GapMax: 5 * time.Second, Tail: 3 * time.Second}
}

// Validate checks the configuration.
func (c ScheduleConfig) Validate() error {
	if c.LeadIn < 0 || c.GapMin < 0 || c.GapMax < c.GapMin || c.Tail < 0 {
		return errors.New("nemesis: want LeadIn, GapMin, Tail >= 0 and GapMax >= GapMin")
	}
	return nil
}

// Step is one planned fault.
type Step struct {
	// Gap is the quiet time before the fault starts (after the previous one stopped).
	Gap time.Duration `json:"gap"`
	// Name is the nemesis.
	Name string `json:"name"`
	// Hold is how long the fault stays (a goal-driven fault may stop earlier).
	Hold time.Duration `json:"hold"`
	// Seed seeds the fault's own random choices (which nodes, how much loss, ...).
	Seed uint64 `json:"seed"`
}

// Plan is the fault schedule of one episode.
type Plan struct {
	Episode int    `json:"episode"`
	Steps   []Step `json:"steps"`
}

// String renders the plan on one line.
func (p Plan) String() string {
	var parts []string
	for _, s := range p.Steps {
		parts = append(parts, fmt.Sprintf("+%v %s %v", s.Gap.Round(100*time.Millisecond), s.Name, s.Hold.Round(100*time.Millisecond)))
	}
	return fmt.Sprintf("episode %d: %s", p.Episode, strings.Join(parts, ", "))
}

// NewSchedule plans the faults of every episode from seed alone: the same seed, names,
// episode count and length always give the same plans. Nemeses are drawn from shuffled bags
// (every name once per bag) so a run covers all of them; one that no longer fits into an
// episode waits for the next.
func NewSchedule(seed uint64, episodes int, names []string, length time.Duration, sc ScheduleConfig) ([]Plan, error) {
	if err := sc.Validate(); err != nil {
		return nil, err
	}
	specs := map[string]Spec{}
	for _, n := range names {
		s, err := Lookup(n)
		if err != nil {
			return nil, err
		}
		specs[n] = s
	}
	rng := rand.New(rand.NewPCG(seed, 0x6e656d65736973))
	var bag []string
	plans := make([]Plan, 0, episodes)
	for ep := 1; ep <= episodes; ep++ {
		plan := Plan{Episode: ep}
		var at time.Duration
		for len(names) > 0 {
			gap := sc.LeadIn
			if len(plan.Steps) > 0 {
				gap = between(rng, sc.GapMin, sc.GapMax)
			}
			if len(bag) == 0 {
				bag = append([]string(nil), names...)
				rng.Shuffle(len(bag), func(i, j int) { bag[i], bag[j] = bag[j], bag[i] })
			}
			pick := -1
			var hold time.Duration
			for i, name := range bag {
				h := between(rng, specs[name].HoldMin, specs[name].HoldMax)
				if at+gap+h <= length-sc.Tail {
					pick, hold = i, h
					break
				}
			}
			if pick < 0 {
				break
			}
			name := bag[pick]
			bag = append(bag[:pick], bag[pick+1:]...)
			plan.Steps = append(plan.Steps, Step{Gap: gap, Name: name, Hold: hold, Seed: rng.Uint64()})
			at += gap + hold
		}
		plans = append(plans, plan)
	}
	return plans, nil
}

// between returns a random duration in [lo, hi], rounded to 100 ms.
func between(rng *rand.Rand, lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	d := lo + time.Duration(rng.Int64N(int64(hi-lo)+1))
	return d.Round(100 * time.Millisecond)
}
