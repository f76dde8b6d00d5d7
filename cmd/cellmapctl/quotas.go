package main

import (
	"context"
	"fmt"
	"strconv"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the quota commands.
const (
	exitQuotaFailed = 1 // refused: invalid value, not allowed, or a concurrent change (set)
	exitQuotaDrift  = 2 // verify found drift (and did not fix it)
)

// quotaFailure says what went wrong; ok is false for an unexpected error (exit 255).
func quotaFailure(r *report, err error) (int, bool) {
	switch client.CodeOf(err) {
	case api.CodeInvalid, api.CodeBadRequest, api.CodeNotFound, api.CodeRevisionMismatch, api.CodeAlreadyExists,
		api.CodeUnauthenticated, api.CodeForbidden:
		r.say("Refused: %s", apiMessage(err))
		return exitQuotaFailed, true
	}
	return 0, false
}

func quotaError(e *env, err error) int {
	r := e.report()
	if code, ok := quotaFailure(r, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// limitText prints a limit as Nova does: -1 is unlimited.
func limitText(v int64) string {
	if v < 0 {
		return "unlimited"
	}
	return strconv.FormatInt(v, 10)
}

// optInt is an int64 flag that knows whether it was given.
type optInt struct{ v *int64 }

func (o *optInt) String() string {
	if o.v == nil {
		return ""
	}
	return strconv.FormatInt(*o.v, 10)
}

func (o *optInt) Set(s string) error {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return fmt.Errorf("not an integer: %q", s)
	}
	o.v = &v
	return nil
}

// quota show ----------------------------------------------------------------------------------

type quotaShowOptions struct{}

func quotaShowCommand() command {
	return command{name: "show", summary: "Show a project's limits and usage (reader; a scoped token only its project).",
		exits: "  0 shown\n  1 refused\n", new: func() options { return &quotaShowOptions{} }}
}

func (o *quotaShowOptions) addFlags(f *flagSet) { f.positional("<project-id>", 1, 1) }

func (o *quotaShowOptions) run(ctx context.Context, e *env, args []string) int {
	q, err := e.client.Quota(ctx, args[0])
	if err != nil {
		return quotaError(e, err)
	}
	tb := newTable("Resource", "Limit", "In use")
	tb.align = alignLeft
	tb.addRow("instances", limitText(q.Limits.Instances), strconv.FormatInt(q.Usage.Instances, 10))
	tb.addRow("cores", limitText(q.Limits.Cores), strconv.FormatInt(q.Usage.Cores, 10))
	tb.addRow("ram", limitText(q.Limits.RAM), strconv.FormatInt(q.Usage.RAM, 10))
	return e.show(q, tb)
}

// quota set -----------------------------------------------------------------------------------

type quotaSetOptions struct {
	instances, cores, ram optInt
	defaults              bool
}

func quotaSetCommand() command {
	return command{name: "set", summary: "Set a project's limits, or with --default the defaults (operator); -1 is unlimited.",
		exits: "  0 set\n  1 refused (invalid value, not allowed, changed meanwhile: run it again)\n",
		new:   func() options { return &quotaSetOptions{} }}
}

func (o *quotaSetOptions) addFlags(f *flagSet) {
	f.fs.Var(&o.instances, "instances", "servers (`N`, -1 unlimited)")
	f.fs.Var(&o.cores, "cores", "vcpus (`N`, -1 unlimited)")
	f.fs.Var(&o.ram, "ram", "RAM in MB (`N`, -1 unlimited)")
	f.fs.BoolVar(&o.defaults, "default", false, "set the defaults of projects without limits of their own")
	f.positional("[<project-id>]", 0, 1)
}

func (o *quotaSetOptions) run(ctx context.Context, e *env, args []string) int {
	if o.defaults == (len(args) == 1) {
		fmt.Fprintln(e.stderr, "quota set: give a project id or --default, not both")
		return exitUsage
	}
	project := ""
	if len(args) == 1 {
		project = args[0]
	}
	v, err := e.client.SetQuota(ctx, project, api.QuotaUpdate{Instances: o.instances.v, Cores: o.cores.v, RAM: o.ram.v})
	if err != nil {
		return quotaError(e, err)
	}
	r := e.report()
	r.result = v
	r.say("Limits: instances %s, cores %s, ram %s.", limitText(v.Instances), limitText(v.Cores), limitText(v.RAM))
	return r.done(exitOK)
}

// quota verify --------------------------------------------------------------------------------

type quotaVerifyOptions struct{ fix bool }

func quotaVerifyCommand() command {
	return command{name: "verify", summary: "Recount every project's usage from its servers and report drift (operator); --fix replaces drifted usage.",
		exits: "  0 no drift (or fixed)\n  1 refused\n  2 drift found\n", new: func() options { return &quotaVerifyOptions{} }}
}

func (o *quotaVerifyOptions) addFlags(f *flagSet) {
	f.fs.BoolVar(&o.fix, "fix", false, "replace each drifted usage with the recount")
}

func (o *quotaVerifyOptions) run(ctx context.Context, e *env, _ []string) int {
	v, err := e.client.VerifyQuotas(ctx, o.fix)
	if err != nil {
		return quotaError(e, err)
	}
	r := e.report()
	r.result = v
	for _, d := range v.Drift {
		r.say("Project %s: recorded %d instances, %d cores, %d MB; counted %d, %d, %d MB.", d.ProjectID,
			d.Recorded.Instances, d.Recorded.Cores, d.Recorded.RAM, d.Counted.Instances, d.Counted.Cores, d.Counted.RAM)
	}
	switch {
	case len(v.Drift) == 0:
		r.say("%d projects checked: no drift.", v.Projects)
	case v.Fixed:
		r.say("%d projects checked: %d fixed.", v.Projects, len(v.Drift))
	default:
		r.say("%d projects checked: %d drifted (run with --fix to correct).", v.Projects, len(v.Drift))
		return r.done(exitQuotaDrift)
	}
	return r.done(exitOK)
}
