package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the keyring commands that ask the pool.
const (
	exitKeyringRefused = 1 // nothing done: bad key, no encryption, key not everywhere, not allowed
	exitKeyringPartial = 2 // done, but some members failed or did not answer
)

// keyring generate ----------------------------------------------------------------------------

type keyringGenerateOptions struct{}

func keyringGenerateCommand() command {
	return command{name: "generate", summary: "Print a new gossip encryption key (32 bytes, base64; no server needed) for --gossip-key-file.",
		exits: "  0 printed\n", new: func() options { return &keyringGenerateOptions{} }}
}

func (o *keyringGenerateOptions) addFlags(*flagSet) {}

func (o *keyringGenerateOptions) run(_ context.Context, e *env, _ []string) int {
	var k [32]byte
	if _, err := rand.Read(k[:]); err != nil {
		return e.fail(err)
	}
	fmt.Fprintln(e.stdout, base64.StdEncoding.EncodeToString(k[:]))
	return exitOK
}

// keyring list | install | use | remove -------------------------------------------------------

const keyringExits = "  0 every alive member answered\n  1 refused, nothing done (invalid key, gossip not encrypted,\n" +
	"    key not installed everywhere for use, not allowed)\n  2 some members failed or did not answer (listed)\n"

type keyringListOptions struct{}

func keyringListCommand() command {
	return command{name: "list", summary: "List the gossip keys of every alive member, nodes and conductors (admin).",
		exits: keyringExits, new: func() options { return &keyringListOptions{} }}
}

func (o *keyringListOptions) addFlags(*flagSet) {}

func (o *keyringListOptions) run(ctx context.Context, e *env, _ []string) int {
	res, err := e.client.Keyring(ctx)
	return keyringReport(e, res, err)
}

// keyringOpOptions is install, use or remove: the operation runs on every alive member.
type keyringOpOptions struct{ op string }

func keyringOpCommand(op, summary string) command {
	return command{name: op, summary: summary, exits: keyringExits, new: func() options { return &keyringOpOptions{op: op} }}
}

func (o *keyringOpOptions) addFlags(f *flagSet) { f.positional("<key>", 1, 1) }

func (o *keyringOpOptions) run(ctx context.Context, e *env, args []string) int {
	res, err := e.client.KeyringOp(ctx, o.op, args[0])
	return keyringReport(e, res, err)
}

func keyringCommands() []command {
	return []command{keyringGenerateCommand(), keyringListCommand(),
		keyringOpCommand("install", "Install KEY on every alive member (admin); it decrypts but does not encrypt yet."),
		keyringOpCommand("use", "Make KEY the one every member encrypts with (admin); refused unless every alive member has it."),
		keyringOpCommand("remove", "Remove KEY from every alive member (admin); refused where it still encrypts."),
	}
}

// keyringReport prints the pool's answer: a list as key/holders rows, every operation with
// the members that failed; exit 2 when some did.
func keyringReport(e *env, res *api.KeyringResult, err error) int {
	if err != nil {
		r := e.report()
		switch client.CodeOf(err) {
		case api.CodeInvalid, api.CodeGossipNotEncrypted, api.CodeKeyNotEverywhere, api.CodeUnauthenticated, api.CodeForbidden:
			r.say("Refused: %s", apiMessage(err))
			return r.done(exitKeyringRefused)
		}
		return e.fail(err)
	}
	code := exitOK
	if res.Failed > 0 {
		code = exitKeyringPartial
	}
	if e.jsonOutput() {
		if c := e.show(res); c != exitOK {
			return c
		}
		return code
	}
	if res.Op == "list" {
		keys := make([]string, 0, len(res.Keys))
		for k := range res.Keys {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		tb := newTable("Key", "Members", "Primary on")
		for _, k := range keys {
			tb.addRow(k, fmt.Sprintf("%d/%d", res.Keys[k], res.Members), fmt.Sprintf("%d", res.Primary[k]))
		}
		if err := tb.write(e.stdout); err != nil {
			return e.fail(err)
		}
	} else {
		fmt.Fprintf(e.stdout, "%s: %d of %d members done.\n", res.Op, res.Members-res.Failed, res.Members)
	}
	if res.Failed > 0 {
		var failed []string
		for _, m := range res.Results {
			if m.Error != "" {
				failed = append(failed, fmt.Sprintf("  %s (%s): %s", m.Name, m.Role, m.Error))
			}
		}
		fmt.Fprintf(e.stdout, "%d members failed:\n%s\n", res.Failed, strings.Join(failed, "\n"))
	}
	return code
}
