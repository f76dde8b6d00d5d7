package history

// Op is a client operation: its invoke and (when recorded) its completion.
type Op struct {
	Invoke Event
	Done   Event
	// Completed is false when the history ends before the operation did; treat it as info.
	Completed bool
}

// Outcome is the completion kind, info when the operation never completed.
func (o Op) Outcome() Kind {
	if !o.Completed {
		return KindInfo
	}
	return o.Done.Kind
}

// Latency is the operation's duration in nanoseconds (-1 when it never completed).
func (o Op) Latency() int64 {
	if !o.Completed {
		return -1
	}
	return o.Done.Time - o.Invoke.Time
}

// Ops pairs invokes with completions, in invoke order.
func Ops(events []Event) []Op {
	var ops []Op
	byID := map[int64]int{}
	for _, e := range events {
		switch {
		case e.Kind == KindInvoke:
			byID[e.Op] = len(ops)
			ops = append(ops, Op{Invoke: e})
		case e.Kind.IsCompletion():
			if i, ok := byID[e.Op]; ok {
				ops[i].Done, ops[i].Completed = e, true
			}
		}
	}
	return ops
}

// Window is a nemesis fault from its start to its stop (End is -1 while it never stopped).
type Window struct {
	Fault   int
	Name    string
	Start   int64
	End     int64
	Targets []string
	Detail  string
	// StopDetail is what the stop event said (e.g. whether a snapshot was installed).
	StopDetail string
	StartEvent Event
}

// Windows pairs nemesis starts with their stops, in start order.
func Windows(events []Event) []Window {
	var ws []Window
	byID := map[int]int{}
	for _, e := range events {
		if e.Kind != KindNemesis {
			continue
		}
		switch e.Phase {
		case PhaseStart:
			byID[e.Fault] = len(ws)
			ws = append(ws, Window{Fault: e.Fault, Name: e.F, Start: e.Time, End: -1, Targets: e.Targets, Detail: e.Detail, StartEvent: e})
		case PhaseStop:
			if i, ok := byID[e.Fault]; ok {
				ws[i].End, ws[i].StopDetail = e.Time, e.Detail
			}
		}
	}
	return ws
}

// Last is the time of the last event (0 for an empty history).
func Last(events []Event) int64 {
	if len(events) == 0 {
		return 0
	}
	return events[len(events)-1].Time
}
