package main

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// operator autopilot state exit codes.
const (
	// exitAutopilotUnhealthy: the state was shown and a server is not healthy.
	exitAutopilotUnhealthy = 1
	// exitAutopilotDisabled: the leader does not run autopilot.
	exitAutopilotDisabled = 3
)

// autopilotStateOptions are the options of operator autopilot state.
type autopilotStateOptions struct{}

// autopilotStateCommand is the dispatch entry of operator autopilot state.
func autopilotStateCommand() command {
	return command{name: "autopilot state",
		summary: "Show the leader's autopilot view: configuration, failure tolerance and the health of every server.",
		exits:   "  0 every server is healthy\n  1 a server is not healthy\n  3 the leader does not run autopilot\n",
		new:     func() options { return &autopilotStateOptions{} }}
}

// addFlags defines the options of operator autopilot state.
func (o *autopilotStateOptions) addFlags(*flagSet) {}

// run executes operator autopilot state.
func (o *autopilotStateOptions) run(ctx context.Context, e *env, _ []string) int {
	h, err := e.client.AutopilotHealth(ctx)
	if client.CodeOf(err) == api.CodeAutopilotDisabled {
		r := e.report()
		r.say("Autopilot is not running on the leader (cellmapd --autopilot=false).")
		return r.done(exitAutopilotDisabled)
	}
	if err != nil {
		return e.fail(err)
	}
	c := h.Config
	summary := newTable("Field", "Value")
	summary.align = alignLeft
	for _, row := range [][2]string{
		{"Healthy", strconv.FormatBool(h.Healthy)}, {"Failure Tolerance", strconv.Itoa(h.FailureTolerance)},
		{"Leader", h.Leader}, {"Voters", strings.Join(h.Voters, ", ")},
		{"Cleanup Dead Servers", strconv.FormatBool(c.CleanupDeadServers)}, {"Dead Server Threshold", c.DeadServerThreshold},
		{"Last Contact Threshold", c.LastContactThreshold}, {"Max Trailing Logs", strconv.FormatUint(c.MaxTrailingLogs, 10)},
		{"Min Quorum", strconv.FormatUint(uint64(c.MinQuorum), 10)}, {"Server Stabilization Time", c.ServerStabilizationTime},
	} {
		summary.addRow(row[0], row[1])
	}
	servers := newTable("ID", "Address", "Node Status", "State", "Healthy", "Stable Since", "Last Contact", "Last Term", "Last Index")
	for _, s := range h.Servers {
		status := s.NodeStatus
		if s.FailedSince != nil {
			status += " since " + s.FailedSince.Format(time.RFC3339)
		}
		contact := "never"
		if s.LastContactMS >= 0 {
			contact = (time.Duration(s.LastContactMS) * time.Millisecond).String()
		}
		servers.addRow(s.ID, s.Address, status, s.State, strconv.FormatBool(s.Healthy), s.StableSince.Format(time.RFC3339),
			contact, strconv.FormatUint(s.LastTerm, 10), strconv.FormatUint(s.LastIndex, 10))
	}
	if code := e.show(h, summary, servers); code != exitOK {
		return code
	}
	if !h.Healthy {
		return exitAutopilotUnhealthy
	}
	return exitOK
}
