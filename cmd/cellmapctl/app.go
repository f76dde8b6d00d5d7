package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"github.com/cellmap/cellmap/client"
	"github.com/cellmap/cellmap/internal/flagenv"
	"github.com/cellmap/cellmap/transport"
)

// Exit codes shared by every command. Each command defines its own codes next to it.
const (
	exitOK = 0
	// exitUsage is argparse's code for a bad command line: unknown group, command or option,
	// missing required option.
	exitUsage = 2
	// exitUnexpected is nova-manage's code for any uncaught error since Train (bug 1840978):
	// server unreachable, 5xx, undecodable answer, unexpected API error code.
	exitUnexpected = 255
)

// Defaults of the global options.
const (
	defaultAddr    = "http://127.0.0.1:8480"
	defaultTimeout = 30 * time.Second
	envPrefix      = "CELLMAP_"
	formatTable    = "table"
	formatJSON     = "json"
)

// globalOptions come before the group (and may also follow the command). Each has an
// environment variable: --addr is CELLMAP_ADDR, --base-transport-url is
// CELLMAP_BASE_TRANSPORT_URL, and so on.
type globalOptions struct {
	addr    string
	format  string
	timeout time.Duration
	// baseTransportURL and baseDatabaseConnection play nova.conf's [DEFAULT]/transport_url and
	// [database]/connection: they fill template URLs for display and are create_cell's and
	// map_cell0's fallbacks.
	baseTransportURL       string
	baseDatabaseConnection string
	// caCert verifies the node's HTTPS certificate; clientCert and clientKey, when given, are
	// presented as a client certificate.
	caCert, clientCert, clientKey string
	// token (or the first line of tokenFile) is sent with every request.
	token, tokenFile string
}

// globalNames are the names of the global options, in help order.
func globalNames() []string {
	return []string{"addr", "format", "timeout", "base-transport-url", "base-database-connection", "ca-cert", "client-cert", "client-key",
		"token", "token-file"}
}

// envNames are the environment variables whose name is not the flagenv one (Consul's and
// etcd's spelling of the CA variable).
var envNames = map[string]string{"ca-cert": "CELLMAP_CACERT"}

// envName is the environment variable of global option name.
func envName(name string) string {
	if n, ok := envNames[name]; ok {
		return n
	}
	return flagenv.EnvName(envPrefix, name)
}

// addFlags registers the global options on f (the top-level set, and every command's set so
// that they may also follow the command).
func (g *globalOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&g.addr, "addr", defaultAddr, "`URL` of any cellmap node")
	f.fs.StringVar(&g.format, "format", formatTable, "output `FORMAT`: table or json")
	f.fs.DurationVar(&g.timeout, "timeout", defaultTimeout, "`DURATION` bounding the whole command")
	f.fs.StringVar(&g.baseTransportURL, "base-transport-url", "",
		"`URL` filling template transport URLs; create_cell's default ([DEFAULT]/transport_url)")
	f.fs.StringVar(&g.baseDatabaseConnection, "base-database-connection", "",
		"`URL` filling template database URLs; create_cell's and map_cell0's default ([database]/connection)")
	f.fs.StringVar(&g.caCert, "ca-cert", "", "CA certificate `FILE` that verifies the node's HTTPS certificate (the cluster CA)")
	f.fs.StringVar(&g.clientCert, "client-cert", "", "client certificate `FILE` to present (with --client-key)")
	f.fs.StringVar(&g.clientKey, "client-key", "", "key `FILE` of --client-cert")
	f.fs.StringVar(&g.token, "token", "", "`TOKEN` sent with every request (prefer --token-file: a command line is visible to other users)")
	f.fs.StringVar(&g.tokenFile, "token-file", "", "`FILE` whose first line is the token (with --dev: <data-dir>/dev-admin-token)")
}

// secret returns the token of --token, else of --token-file ("" without either).
func (g *globalOptions) secret() (string, error) {
	if g.token != "" || g.tokenFile == "" {
		return strings.TrimSpace(g.token), nil
	}
	b, err := os.ReadFile(g.tokenFile)
	if err != nil {
		return "", usagef("--token-file: %v", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	if line = strings.TrimSpace(line); line == "" {
		return "", usagef("--token-file: %s is empty", g.tokenFile)
	}
	return line, nil
}

// newClient returns the client of --addr: HTTPS with --ca-cert and the client certificate when
// the address is https:// or any TLS option is given.
func (g *globalOptions) newClient() (*client.Client, error) {
	token, err := g.secret()
	if err != nil {
		return nil, err
	}
	if g.caCert == "" && g.clientCert == "" && g.clientKey == "" && !strings.HasPrefix(g.addr, "https://") {
		return client.New(g.addr, nil).WithToken(token), nil
	}
	tlsCfg, err := transport.ClientTLSFromFiles(g.caCert, g.clientCert, g.clientKey)
	if err != nil {
		return nil, usagef("%v", err)
	}
	c, err := client.NewWithConfig(&client.Config{Addr: g.addr, TLS: tlsCfg, Token: token})
	if err != nil {
		return nil, usagef("--addr: %v", err)
	}
	return c, nil
}

// markGlobal hides the global options from a command's help.
func markGlobal(f *flagSet) {
	for _, name := range globalNames() {
		f.global[name] = true
	}
}

// applyEnv sets every global option not given on the command line from its environment
// variable (flagenv naming).
func (g *globalOptions) applyEnv(f *flagSet, lookup func(string) (string, bool)) error {
	given := f.given()
	var err error
	f.fs.VisitAll(func(fl *flag.Flag) {
		if err != nil || given[f.canonical(fl.Name)] || f.canonical(fl.Name) != fl.Name {
			return
		}
		name := envName(fl.Name)
		if v, ok := lookup(name); ok {
			if e := fl.Value.Set(v); e != nil {
				err = usagef("%s=%q: %v", name, v, e)
			}
		}
	})
	return err
}

// validate checks the values of the global options.
func (g *globalOptions) validate() error {
	if g.format != formatTable && g.format != formatJSON {
		return usagef("--format must be table or json, not %q", g.format)
	}
	if g.timeout <= 0 {
		return usagef("--timeout must be positive")
	}
	return nil
}

// env is what a command runs with: the global options, the output streams and a client.
type env struct {
	globalOptions
	stdout, stderr io.Writer
	client         *client.Client
	// tty is whether stdout is a terminal: long-running commands then show their progress.
	tty bool
}

// isTerminal reports whether w is a terminal: a file (like os.Stdout) that is a character
// device.
func isTerminal(w io.Writer) bool {
	f, ok := w.(interface{ Stat() (fs.FileInfo, error) })
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&fs.ModeCharDevice != 0
}

// progress prints a progress line over the previous one ("\r..."), only on a terminal and
// never in JSON output. It reports whether it printed.
func (e *env) progress(format string, args ...any) bool {
	if !e.tty || e.jsonOutput() {
		return false
	}
	fmt.Fprintf(e.stdout, "\r"+format, args...)
	return true
}

// jsonOutput reports whether --format json was asked for.
func (e *env) jsonOutput() bool { return e.format == formatJSON }

// fail prints nova-manage's message for an unexpected error and returns 255.
func (e *env) fail(err error) int {
	fmt.Fprintf(e.stderr, "An error has occurred:\n%v\n", err)
	return exitUnexpected
}

// show prints a listing: v as JSON, or the tables separated by a blank line.
func (e *env) show(v any, tables ...*table) int {
	if e.jsonOutput() {
		if err := writeJSON(e.stdout, v); err != nil {
			return e.fail(err)
		}
		return exitOK
	}
	for i, t := range tables {
		if i > 0 {
			fmt.Fprintln(e.stdout)
		}
		if err := t.write(e.stdout); err != nil {
			return e.fail(err)
		}
	}
	return exitOK
}

// writeJSON prints v as indented JSON.
func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// report collects what a command says, the way nova-manage prints it: message lines on
// stdout, or with --format json one object {"exit_code", "messages", "result"}.
type report struct {
	e        *env
	quiet    bool
	messages []string
	result   any
}

// report starts the report of a message-printing command.
func (e *env) report() *report { return &report{e: e} }

// say adds one message line.
func (r *report) say(format string, args ...any) {
	r.messages = append(r.messages, fmt.Sprintf(format, args...))
}

// done prints the report and returns code.
func (r *report) done(code int) int {
	if r.quiet {
		return code
	}
	if r.e.jsonOutput() {
		msgs := r.messages
		if msgs == nil {
			msgs = []string{}
		}
		out := struct {
			ExitCode int      `json:"exit_code"`
			Messages []string `json:"messages"`
			Result   any      `json:"result,omitempty"`
		}{code, msgs, r.result}
		if err := writeJSON(r.e.stdout, out); err != nil {
			return r.e.fail(err)
		}
		return code
	}
	for _, m := range r.messages {
		fmt.Fprintln(r.e.stdout, m)
	}
	return code
}

// fail prints the messages said so far (as nova-manage had printed them before the error, in
// table mode), then the unexpected error; it returns 255.
func (r *report) fail(err error) int {
	if !r.quiet && !r.e.jsonOutput() {
		for _, m := range r.messages {
			fmt.Fprintln(r.e.stdout, m)
		}
	}
	return r.e.fail(err)
}

// failDone prints the whole report with exit code 255 (in JSON output too, with its result),
// then the unexpected error; for failures found after the work was done (a cell that could
// not be reached while the others were handled).
func (r *report) failDone(err error) int {
	r.done(exitUnexpected)
	return r.e.fail(err)
}

// apiMessage is the human part of an API error (the whole error for other failures).
func apiMessage(err error) string {
	var ae *client.Error
	if errors.As(err, &ae) && ae.Message != "" {
		return ae.Message
	}
	return err.Error()
}

// options is one command's options struct: it defines its flags and runs.
type options interface {
	addFlags(f *flagSet)
	run(ctx context.Context, e *env, args []string) int
}

// waiter is implemented by options that may wait for something beyond the requests (server
// create --wait): the command's time bound, --timeout, is extended by extraTime.
type waiter interface {
	extraTime() time.Duration
}

// validator is implemented by options whose command line needs more checks than required
// options and a number of positional arguments; an error is a usage error (exit 2).
type validator interface {
	validate(args []string) error
}

// command is one entry of the dispatch table.
type command struct {
	name    string // nova-manage spelling (underscores); the hyphen spelling is accepted too
	summary string
	exits   string // the exit codes, one "  N meaning" line each, for --help
	new     func() options
}

// matches reports whether args start with the command's name, which may be two words
// ("ca create"); n is how many arguments the name took.
func (c command) matches(args []string) (n int, ok bool) {
	words := strings.Fields(c.name)
	if len(args) < len(words) {
		return 0, false
	}
	for i, w := range words {
		if normalize(args[i]) != w {
			return 0, false
		}
	}
	return len(words), true
}

// group is a command group (cell_v2, cluster, flavor) or, with direct set, a group that is
// itself a command (lookup); a group may be both (backup FILE, backup verify FILE).
type group struct {
	name     string
	summary  string
	commands []command
	direct   *command
}

// groups is the dispatch table: group -> command -> options.
func groups() []group {
	return []group{
		{name: "cell_v2", summary: "cell, host and instance mappings (nova-manage cell_v2 names, options and exit codes)",
			commands: []command{
				simpleCellSetupCommand(), mapCell0Command(), createCellCommand(), updateCellCommand(), deleteCellCommand(),
				listCellsCommand(), discoverHostsCommand(), listHostsCommand(), deleteHostCommand(), mapInstancesCommand(),
				verifyInstanceCommand(),
			}},
		{name: "cluster", summary: "raft cluster membership and status",
			commands: []command{clusterStatusCommand(), clusterJoinCommand(), clusterRemoveCommand()}},
		{name: "lookup", summary: "show the mapping of an instance and its cell", direct: ptr(lookupCommand())},
		{name: "watch", summary: "print the change stream until interrupted", direct: ptr(watchCommand())},
		{name: "flavor", summary: "server flavors",
			commands: []command{flavorCreateCommand(), flavorListCommand(), flavorShowCommand(), flavorDeleteCommand()}},
		{name: "image", summary: "the image catalogue the image API (/image) serves",
			commands: []command{imageCreateCommand(), imageListCommand(), imageDeleteCommand()}},
		{name: "server", summary: "servers across the cells (needs the cells data plane)",
			commands: []command{serverCreateCommand(), serverListCommand(), serverShowCommand(), serverDeleteCommand()}},
		{name: "server_group", summary: "server groups: affinity and anti-affinity enforced at placement",
			commands: []command{groupCreateCommand(), groupListCommand(), groupShowCommand(), groupDeleteCommand()}},
		{name: "aggregate", summary: "host aggregates; one with an availability_zone property is a zone", commands: aggregateCommands()},
		{name: "availability_zone", summary: "availability zones and their hosts", commands: []command{zoneListCommand()}},
		{name: "quota", summary: "project limits and usage, counted at the API tier",
			commands: []command{quotaShowCommand(), quotaSetCommand(), quotaVerifyCommand()}},
		{name: "acl", summary: "the access control list of the cluster", commands: []command{aclBootstrapCommand()}},
		{name: "token", summary: "tokens and their roles (admin)",
			commands: []command{tokenCreateCommand(), tokenListCommand(), tokenRevokeCommand(), tokenSecretCommand()}},
		{name: "user", summary: "users of the built-in identity API (/identity) and their roles (admin)",
			commands: []command{userCreateCommand(), userListCommand(), userDeleteCommand(), userSetPasswordCommand(), userSetRolesCommand()}},
		{name: "keyring", summary: "gossip encryption keys: generate one (no server needed); list, install, use, remove across the pool (admin)",
			commands: keyringCommands()},
		{name: "tls", summary: "the cluster CA and the certificates of nodes, clients and cell conductors (no server needed)",
			commands: []command{tlsCACreateCommand(), tlsCertCreateCommand()}},
		{name: "backup", summary: "backup FILE saves the cluster's state; backup verify|inspect FILE check one offline",
			direct: ptr(backupCommand()), commands: []command{backupVerifyCommand(), backupInspectCommand()}},
		{name: "restore", summary: "restore FILE replaces the running cluster's state with a backup", direct: ptr(restoreCommand())},
		{name: "operator", summary: "cluster operations: the leader's autopilot", commands: []command{autopilotStateCommand()}},
	}
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// normalize maps the hyphen spelling of a group or command to nova-manage's.
func normalize(name string) string { return strings.ReplaceAll(name, "-", "_") }

// isHelp reports whether arg asks for help where a group or command is expected.
func isHelp(arg string) bool {
	return arg == "-h" || arg == "-help" || arg == "--help" || arg == "help"
}

// run is cellmapctl: it parses the command line, dispatches and returns the exit code.
func run(args []string, stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) int {
	var g globalOptions
	gf := newFlagSet("cellmapctl")
	g.addFlags(gf)
	gf.addAliases()
	usage := func(w io.Writer) { mainUsage(w, gf) }
	if err := gf.fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			err = usagef("%v", err)
		}
		return usageExit(stdout, stderr, "cellmapctl", err, usage)
	}
	if err := g.applyEnv(gf, lookupEnv); err != nil {
		return usageExit(stdout, stderr, "cellmapctl", err, usage)
	}
	rest := gf.fs.Args()
	if len(rest) == 0 {
		return usageExit(stdout, stderr, "cellmapctl", usagef("a group is required"), usage)
	}
	if isHelp(rest[0]) {
		usage(stdout)
		return exitOK
	}
	for _, grp := range groups() {
		if grp.name == normalize(rest[0]) {
			return dispatch(&g, grp, rest[1:], stdout, stderr)
		}
	}
	return usageExit(stdout, stderr, "cellmapctl", usagef("invalid choice: %q (choose from %s)", rest[0], groupNames()), usage)
}

// dispatch finds the command of a group and runs it.
func dispatch(g *globalOptions, grp group, args []string, stdout, stderr io.Writer) int {
	if grp.direct != nil {
		for _, c := range grp.commands {
			if n, ok := c.matches(args); ok {
				return runCommand(g, "cellmapctl "+grp.name+" "+c.name, c, args[n:], stdout, stderr)
			}
		}
		return runCommand(g, "cellmapctl "+grp.name, *grp.direct, args, stdout, stderr)
	}
	usage := func(w io.Writer) { groupUsage(w, grp) }
	if len(args) == 0 {
		return usageExit(stdout, stderr, "cellmapctl "+grp.name, usagef("a command is required"), usage)
	}
	if isHelp(args[0]) {
		usage(stdout)
		return exitOK
	}
	for _, c := range grp.commands {
		if n, ok := c.matches(args); ok {
			return runCommand(g, "cellmapctl "+grp.name+" "+c.name, c, args[n:], stdout, stderr)
		}
	}
	return usageExit(stdout, stderr, "cellmapctl "+grp.name, usagef("invalid choice: %q (choose from %s)", args[0], commandNames(grp)), usage)
}

// runCommand parses a command's options (the global ones are accepted there too) and runs it
// with a context bounded by --timeout.
func runCommand(g *globalOptions, path string, c command, args []string, stdout, stderr io.Writer) int {
	opts := c.new()
	f := newFlagSet(path)
	opts.addFlags(f)
	before := *g
	g.addFlags(f) // registering resets the values to their defaults: restore what was parsed
	*g = before
	markGlobal(f)
	f.addAliases()
	usage := func(w io.Writer) { f.writeUsage(w, c.summary, c.exits) }
	positional, err := f.parse(args)
	if err == nil {
		err = g.validate()
	}
	if v, ok := opts.(validator); ok && err == nil {
		err = v.validate(positional)
	}
	if err != nil {
		return usageExit(stdout, stderr, path, err, usage)
	}
	cl, err := g.newClient()
	if err != nil {
		return usageExit(stdout, stderr, path, err, usage)
	}
	e := &env{globalOptions: *g, stdout: stdout, stderr: stderr, client: cl, tty: isTerminal(stdout)}
	defer e.client.Close()
	timeout := g.timeout
	if w, ok := opts.(waiter); ok {
		timeout += w.extraTime()
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return opts.run(ctx, e, positional)
}

// usageExit prints the help for -h (exit 0), or, like argparse, the synopsis and
// "<prog>: error: <msg>" on stderr (exit 2).
func usageExit(stdout, stderr io.Writer, prog string, err error, usage func(io.Writer)) int {
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout)
		return exitOK
	}
	var b strings.Builder
	usage(&b)
	synopsis, _, _ := strings.Cut(b.String(), "\n")
	fmt.Fprintf(stderr, "%s\n%s: error: %v\n", synopsis, prog, err)
	return exitUsage
}

// commandNames lists the commands of g for error messages.
func commandNames(g group) string {
	var names []string
	for _, c := range g.commands {
		names = append(names, c.name)
	}
	return strings.Join(names, ", ")
}

// groupNames lists the groups for error messages.
func groupNames() string {
	var names []string
	for _, g := range groups() {
		names = append(names, g.name)
	}
	return strings.Join(names, ", ")
}

// mainUsage is cellmapctl --help.
func mainUsage(w io.Writer, gf *flagSet) {
	fmt.Fprint(w, "usage: cellmapctl [global options] <group> <command> [options]\n\n"+
		"Operator CLI of cellmap. The cell_v2 commands mirror nova-manage cell_v2: names (with\n"+
		"underscores or hyphens), options and exit codes.\n\nGroups:\n")
	for _, g := range groups() {
		fmt.Fprintf(w, "  %-8s %s\n", g.name, g.summary)
	}
	fmt.Fprintln(w, "\nGlobal options (each also as an environment variable):")
	for _, name := range globalNames() {
		fl := gf.fs.Lookup(name)
		metavar, usage := flag.UnquoteUsage(fl)
		fmt.Fprintf(w, "  --%s %s (%s)\n        %s", name, metavar, envName(name), usage)
		if fl.DefValue != "" {
			fmt.Fprintf(w, " (default %s)", fl.DefValue)
		}
		fmt.Fprintln(w)
	}
	fmt.Fprint(w, "\nRun 'cellmapctl <group> --help' and 'cellmapctl <group> <command> --help' for more.\n"+
		"Exit codes: per command (see its --help); 2 bad command line; 255 unexpected error.\n")
}

// groupUsage is cellmapctl <group> --help.
func groupUsage(w io.Writer, g group) {
	fmt.Fprintf(w, "usage: cellmapctl %s <command> [options]\n\n%s\n\nCommands:\n", g.name, g.summary)
	width := 16
	for _, c := range g.commands {
		width = max(width, len(c.name))
	}
	for _, c := range g.commands {
		first, _, _ := strings.Cut(c.summary, "\n") // the command's help has the rest
		fmt.Fprintf(w, "  %-*s %s\n", width, c.name, first)
	}
}
