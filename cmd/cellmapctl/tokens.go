package main

import (
	"context"
	"fmt"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the acl and token commands.
const (
	exitTokenFailed = 1 // refused: already bootstrapped, unknown token, invalid request, not allowed
)

// tokenFailure says what went wrong; ok is false for an unexpected error (exit 255).
func tokenFailure(r *report, err error) (code int, ok bool) {
	switch client.CodeOf(err) {
	case api.CodeACLAlreadyBootstrapped:
		r.say("The ACL of this cluster was bootstrapped already.")
	case api.CodeNotFound:
		r.say("Token not found.")
	case api.CodeInvalid:
		r.say("Invalid token request: %s", apiMessage(err))
	case api.CodeUnauthenticated, api.CodeForbidden:
		r.say("Not allowed: %s", apiMessage(err))
	default:
		return 0, false
	}
	return exitTokenFailed, true
}

func tokenError(e *env, err error) int {
	r := e.report()
	if code, ok := tokenFailure(r, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// tokenTable is the Field/Value table of one token; the secret only when the answer has it.
func tokenTable(t *api.Token) *table {
	tb := newTable("Field", "Value")
	tb.align = alignLeft
	tb.addRow("Accessor ID", t.AccessorID)
	if t.Secret != "" {
		tb.addRow("Secret", t.Secret)
	}
	tb.addRow("Description", t.Description)
	tb.addRow("Role", t.Role)
	tb.addRow("Project", t.ProjectID)
	expires := "never"
	if t.ExpiresAt != nil {
		expires = t.ExpiresAt.Format(time.RFC3339)
	}
	tb.addRow("Expires", expires)
	tb.addRow("Created", t.CreatedAt.Format(time.RFC3339))
	return tb
}

// acl bootstrap -------------------------------------------------------------------------------

type aclBootstrapOptions struct{}

func aclBootstrapCommand() command {
	return command{name: "bootstrap", summary: "Create the cluster's first admin token (once per cluster) and print its secret.",
		exits: "  0 bootstrapped\n  1 bootstrapped already\n",
		new:   func() options { return &aclBootstrapOptions{} }}
}

func (o *aclBootstrapOptions) addFlags(*flagSet) {}

func (o *aclBootstrapOptions) run(ctx context.Context, e *env, _ []string) int {
	t, err := e.client.ACLBootstrap(ctx)
	if err != nil {
		return tokenError(e, err)
	}
	return e.show(t, tokenTable(t))
}

// token create --------------------------------------------------------------------------------

type tokenCreateOptions struct {
	description, role, project string
	ttl                        time.Duration
}

func tokenCreateCommand() command {
	return command{name: "create", summary: "Create a token (admin) and print its secret, shown only this once.",
		exits: "  0 created\n  1 invalid, or not allowed\n",
		new:   func() options { return &tokenCreateOptions{} }}
}

func (o *tokenCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.description, "description", "", "what the token is for")
	f.fs.StringVar(&o.role, "role", "", "`ROLE`: reader, service, operator or admin")
	f.fs.StringVar(&o.project, "project", "", "confine a reader or service token to project `ID`")
	f.fs.DurationVar(&o.ttl, "ttl", 0, "the token expires after `DURATION` (default: never)")
	f.require("role")
}

func (o *tokenCreateOptions) run(ctx context.Context, e *env, _ []string) int {
	in := api.TokenCreate{Description: o.description, Role: o.role, ProjectID: o.project}
	if o.ttl > 0 {
		in.TTL = o.ttl.String()
	}
	t, err := e.client.CreateToken(ctx, in)
	if err != nil {
		return tokenError(e, err)
	}
	return e.show(t, tokenTable(t))
}

// token list ----------------------------------------------------------------------------------

type tokenListOptions struct{}

func tokenListCommand() command {
	return command{name: "list", summary: "List the tokens (admin), without their secrets.",
		exits: "  0 listed\n", new: func() options { return &tokenListOptions{} }}
}

func (o *tokenListOptions) addFlags(*flagSet) {}

func (o *tokenListOptions) run(ctx context.Context, e *env, _ []string) int {
	ts, err := e.client.Tokens(ctx)
	if err != nil {
		return tokenError(e, err)
	}
	tb := newTable("Accessor ID", "Role", "Project", "Description", "Expires")
	for _, t := range ts {
		expires := "never"
		if t.ExpiresAt != nil {
			expires = t.ExpiresAt.Format(time.RFC3339)
		}
		tb.addRow(t.AccessorID, t.Role, t.ProjectID, t.Description, expires)
	}
	return e.show(api.TokenList{Tokens: ts}, tb)
}

// token revoke --------------------------------------------------------------------------------

type tokenRevokeOptions struct{}

func tokenRevokeCommand() command {
	return command{name: "revoke", summary: "Revoke a token (admin): once this returns, no node accepts it.",
		exits: "  0 revoked\n  1 not found\n", new: func() options { return &tokenRevokeOptions{} }}
}

func (o *tokenRevokeOptions) addFlags(f *flagSet) { f.positional("<accessor-id>", 1, 1) }

func (o *tokenRevokeOptions) run(ctx context.Context, e *env, args []string) int {
	r := e.report()
	if err := e.client.RevokeToken(ctx, args[0]); err != nil {
		if code, ok := tokenFailure(r, err); ok {
			return r.done(code)
		}
		return r.fail(err)
	}
	r.say("Token %s revoked.", args[0])
	return r.done(exitOK)
}

// token secret --------------------------------------------------------------------------------

type tokenSecretOptions struct{}

func tokenSecretCommand() command {
	return command{name: "secret", summary: "Print a new token secret (no server needed), e.g. for cellmapd --acl-bootstrap-token-file.",
		exits: "  0 printed\n", new: func() options { return &tokenSecretOptions{} }}
}

func (o *tokenSecretOptions) addFlags(*flagSet) {}

func (o *tokenSecretOptions) run(_ context.Context, e *env, _ []string) int {
	secret, err := acl.NewSecret()
	if err != nil {
		return e.fail(err)
	}
	fmt.Fprintln(e.stdout, secret)
	return exitOK
}
