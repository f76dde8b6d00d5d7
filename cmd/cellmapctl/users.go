package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the user commands.
const (
	exitUserFailed = 1 // not found, already exists, invalid, no password, or not allowed
)

// userFailure says what went wrong with user ref; ok is false for an unexpected error.
func userFailure(r *report, ref string, err error) (code int, ok bool) {
	switch client.CodeOf(err) {
	case api.CodeNotFound:
		r.say("User %s not found.", ref)
	case api.CodeAlreadyExists:
		r.say("User %s already exists.", ref)
	case api.CodeInvalid:
		r.say("Invalid user request: %s", apiMessage(err))
	case api.CodeUnauthenticated, api.CodeForbidden:
		r.say("Refused: %s", apiMessage(err))
	default:
		return 0, false
	}
	return exitUserFailed, true
}

func userError(e *env, ref string, err error) int {
	r := e.report()
	if code, ok := userFailure(r, ref, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// readPassword reads a password: the first line of path, or of stdin when path is "" or "-".
// The password is never taken from the command line (other users can read it there).
func readPassword(path string, stdin io.Reader) (string, error) {
	in := stdin
	if path != "" && path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return "", err
		}
		defer f.Close()
		in = f
	}
	line, err := bufio.NewReader(io.LimitReader(in, acl.MaxPasswordBytes+2)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	pw := strings.TrimRight(line, "\r\n")
	switch {
	case pw == "":
		return "", errors.New("the password is empty")
	case len(pw) > acl.MaxPasswordBytes:
		return "", fmt.Errorf("the password is longer than %d bytes", acl.MaxPasswordBytes)
	}
	return pw, nil
}

// passwordOrExit reads the password of a command, or reports why it cannot (exit 1).
func passwordOrExit(e *env, path string) (string, int, bool) {
	pw, err := readPassword(path, os.Stdin)
	if err != nil {
		r := e.report()
		r.say("Cannot read the password (--password-file, or stdin): %v", err)
		return "", r.done(exitUserFailed), false
	}
	return pw, exitOK, true
}

// userTable is the Field/Value table of one user (never its password or hash).
func userTable(u *api.User) *table {
	t := newTable("Field", "Value")
	t.align = alignLeft
	t.addRow("ID", u.ID)
	t.addRow("Name", u.Name)
	t.addRow("Domain", u.Domain)
	t.addRow("Roles", rolesString(u.Roles))
	return t
}

// rolesString is project=role pairs sorted by project.
func rolesString(roles map[string]string) string {
	keys := make([]string, 0, len(roles))
	for p := range roles {
		keys = append(keys, p)
	}
	sort.Strings(keys)
	for i, p := range keys {
		keys[i] = p + "=" + roles[p]
	}
	return strings.Join(keys, ", ")
}

// user create --------------------------------------------------------------------------------

type userCreateOptions struct {
	name, passwordFile string
	roles              keyValues
}

func userCreateCommand() command {
	return command{name: "create", summary: "Add a user of the built-in identity API (/identity), its password read from --password-file or stdin.",
		exits: "  0 created\n  1 already exists, invalid, no password, or not allowed (admin only)\n",
		new:   func() options { return &userCreateOptions{roles: keyValues{}} }}
}

func (o *userCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.name, "name", "", "the user `NAME` (domain Default)")
	f.fs.StringVar(&o.passwordFile, "password-file", "", "`FILE` whose first line is the password (default, or -: stdin)")
	f.fs.Var(o.roles, "role", "`PROJECT=ROLE`: the user's role (reader, service, operator, admin) on a project; repeatable")
	f.require("name")
}

func (o *userCreateOptions) run(ctx context.Context, e *env, _ []string) int {
	pw, code, ok := passwordOrExit(e, o.passwordFile)
	if !ok {
		return code
	}
	u, err := e.client.CreateUser(ctx, api.UserCreate{Name: o.name, Password: pw, Roles: o.roles})
	if err != nil {
		return userError(e, o.name, err)
	}
	return e.show(u, userTable(u))
}

// user list ----------------------------------------------------------------------------------

type userListOptions struct{}

func userListCommand() command {
	return command{name: "list", summary: "List the users of the built-in identity API, sorted by name.",
		exits: "  0 listed\n  1 not allowed (admin only)\n",
		new:   func() options { return &userListOptions{} }}
}

func (o *userListOptions) addFlags(*flagSet) {}

func (o *userListOptions) run(ctx context.Context, e *env, _ []string) int {
	us, err := e.client.Users(ctx)
	if err != nil {
		return userError(e, "", err)
	}
	sort.SliceStable(us, func(i, j int) bool { return us[i].Name < us[j].Name })
	t := newTable("ID", "Name", "Roles")
	for _, u := range us {
		t.addRow(u.ID, u.Name, rolesString(u.Roles))
	}
	return e.show(api.UserList{Users: us}, t)
}

// user delete --------------------------------------------------------------------------------

type userDeleteOptions struct{}

func userDeleteCommand() command {
	return command{name: "delete", summary: "Remove a user (by name or id) and revoke its tokens.",
		exits: "  0 deleted\n  1 not found, or not allowed (admin only)\n",
		new:   func() options { return &userDeleteOptions{} }}
}

func (o *userDeleteOptions) addFlags(f *flagSet) { f.positional("<user>", 1, 1) }

func (o *userDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	if err := e.client.DeleteUser(ctx, args[0]); err != nil {
		return userError(e, args[0], err)
	}
	r := e.report()
	r.say("User %s deleted; its tokens are revoked.", args[0])
	return r.done(exitOK)
}

// user set_password ------------------------------------------------------------------------

type userSetPasswordOptions struct{ passwordFile string }

func userSetPasswordCommand() command {
	return command{name: "set_password", summary: "Change a user's password (read from --password-file or stdin) and revoke its tokens.",
		exits: "  0 changed\n  1 not found, invalid, no password, or not allowed (admin only)\n",
		new:   func() options { return &userSetPasswordOptions{} }}
}

func (o *userSetPasswordOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.passwordFile, "password-file", "", "`FILE` whose first line is the new password (default, or -: stdin)")
	f.positional("<user>", 1, 1)
}

func (o *userSetPasswordOptions) run(ctx context.Context, e *env, args []string) int {
	pw, code, ok := passwordOrExit(e, o.passwordFile)
	if !ok {
		return code
	}
	if _, err := e.client.UpdateUser(ctx, args[0], api.UserUpdate{Password: &pw}); err != nil {
		return userError(e, args[0], err)
	}
	r := e.report()
	r.say("Password of user %s changed; its tokens are revoked.", args[0])
	return r.done(exitOK)
}

// user set_roles ---------------------------------------------------------------------------

type userSetRolesOptions struct{ roles keyValues }

func userSetRolesCommand() command {
	return command{name: "set_roles", summary: "Replace a user's roles (none given: no role left) and revoke its tokens.",
		exits: "  0 changed\n  1 not found, invalid, or not allowed (admin only)\n",
		new:   func() options { return &userSetRolesOptions{roles: keyValues{}} }}
}

func (o *userSetRolesOptions) addFlags(f *flagSet) {
	f.fs.Var(o.roles, "role", "`PROJECT=ROLE`: a role (reader, service, operator, admin) on a project; repeatable")
	f.positional("<user>", 1, 1)
}

func (o *userSetRolesOptions) run(ctx context.Context, e *env, args []string) int {
	roles := map[string]string(o.roles)
	u, err := e.client.UpdateUser(ctx, args[0], api.UserUpdate{Roles: &roles})
	if err != nil {
		return userError(e, args[0], err)
	}
	return e.show(u, userTable(u))
}
