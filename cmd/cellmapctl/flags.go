package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"sort"
	"strings"
)

// flagSet is one command's std [flag.FlagSet] plus what argparse gives nova-manage for free:
// alternate spellings (--cell_uuid and --cell-uuid), required options, positional arguments
// and a usage text that lists each option once with its spellings.
type flagSet struct {
	fs       *flag.FlagSet
	path     string            // "cellmapctl cell_v2 create_cell"
	canon    map[string]string // every registered name -> its canonical name
	global   map[string]bool   // canonical names of the global options (hidden in command help)
	required []string          // canonical names that must be given
	// minArgs and maxArgs bound the positional arguments; argsUsage documents them.
	minArgs, maxArgs int
	argsUsage        string
}

// newFlagSet returns an empty flag set for the command at path. Parse errors are returned,
// never printed by package flag.
func newFlagSet(path string) *flagSet {
	fs := flag.NewFlagSet(path, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return &flagSet{fs: fs, path: path, canon: map[string]string{}, global: map[string]bool{}}
}

// addAliases registers, for every flag spelled with '-' or '_', the other spelling
// (--transport-url also as --transport_url, --cell_uuid also as --cell-uuid). Call it after
// every flag is defined.
func (f *flagSet) addAliases() {
	var names []string
	f.fs.VisitAll(func(fl *flag.Flag) { names = append(names, fl.Name) })
	for _, name := range names {
		f.canon[name] = name
		for _, alt := range alternateSpellings(name) {
			if f.fs.Lookup(alt) == nil {
				fl := f.fs.Lookup(name)
				f.fs.Var(fl.Value, alt, fl.Usage)
				f.canon[alt] = name
			}
		}
	}
}

// alternateSpellings returns name with every '-' as '_' and every '_' as '-'.
func alternateSpellings(name string) []string {
	var out []string
	if strings.Contains(name, "-") {
		out = append(out, strings.ReplaceAll(name, "-", "_"))
	}
	if strings.Contains(name, "_") {
		out = append(out, strings.ReplaceAll(name, "_", "-"))
	}
	return out
}

// require marks options (by canonical name) as required.
func (f *flagSet) require(names ...string) { f.required = append(f.required, names...) }

// positional declares the positional arguments the command accepts.
func (f *flagSet) positional(usage string, minArgs, maxArgs int) {
	f.argsUsage, f.minArgs, f.maxArgs = usage, minArgs, maxArgs
}

// given returns the canonical names of the options set on the command line.
func (f *flagSet) given() map[string]bool {
	set := map[string]bool{}
	f.fs.Visit(func(fl *flag.Flag) { set[f.canonical(fl.Name)] = true })
	return set
}

// canonical maps any spelling of an option to its canonical name.
func (f *flagSet) canonical(name string) string {
	if c, ok := f.canon[name]; ok {
		return c
	}
	return name
}

// usageError is a command line the command cannot run with (argparse's exit 2).
type usageError struct{ msg string }

// Error returns the message.
func (e *usageError) Error() string { return e.msg }

// usagef returns a usage error.
func usagef(format string, args ...any) error { return &usageError{fmt.Sprintf(format, args...)} }

// parse reads args, allowing options after positional arguments ("flavor show ID --format
// json"), and checks required options and the number of positional arguments. It returns
// flag.ErrHelp for -h/--help and a *usageError for anything else wrong.
func (f *flagSet) parse(args []string) ([]string, error) {
	var positional []string
	for {
		if err := f.fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usagef("%v", err)
		}
		rest := f.fs.Args()
		if len(rest) == 0 {
			break
		}
		positional = append(positional, rest[0])
		args = rest[1:]
	}
	var missing []string
	given := f.given()
	for _, name := range f.required {
		if !given[name] {
			missing = append(missing, "--"+name)
		}
	}
	if len(missing) > 0 {
		return nil, usagef("the following arguments are required: %s", strings.Join(missing, ", "))
	}
	if len(positional) > f.maxArgs {
		return nil, usagef("unrecognized arguments: %s", strings.Join(positional[f.maxArgs:], " "))
	}
	if len(positional) < f.minArgs {
		return nil, usagef("the following arguments are required: %s", f.argsUsage)
	}
	return positional, nil
}

// optionLine is one option of the usage text with all its spellings.
type optionLine struct {
	names   []string
	metavar string
	usage   string
}

// options lists the command's own options (not the global ones), each with its spellings.
func (f *flagSet) options() []optionLine {
	byCanon := map[string]*optionLine{}
	var order []string
	f.fs.VisitAll(func(fl *flag.Flag) {
		c := f.canonical(fl.Name)
		if f.global[c] {
			return
		}
		line, ok := byCanon[c]
		if !ok {
			metavar, usage := flag.UnquoteUsage(fl)
			line = &optionLine{metavar: metavar, usage: usage}
			byCanon[c] = line
			order = append(order, c)
		}
		if fl.Name == c {
			line.names = append([]string{"--" + fl.Name}, line.names...)
		} else {
			line.names = append(line.names, "--"+fl.Name)
		}
	})
	sort.Strings(order)
	out := make([]optionLine, 0, len(order))
	for _, c := range order {
		out = append(out, *byCanon[c])
	}
	return out
}

// writeUsage prints the command's help: synopsis, description, options and exit codes.
func (f *flagSet) writeUsage(w io.Writer, summary, exits string) {
	fmt.Fprintf(w, "usage: %s", f.path)
	for _, name := range f.required {
		fmt.Fprintf(w, " --%s %s", name, f.metavar(name))
	}
	if len(f.options()) > len(f.required) {
		fmt.Fprint(w, " [options]")
	}
	if f.argsUsage != "" {
		fmt.Fprintf(w, " %s", f.argsUsage)
	}
	fmt.Fprintf(w, "\n\n%s\n", summary)
	if opts := f.options(); len(opts) > 0 {
		fmt.Fprintln(w, "\nOptions:")
		for _, o := range opts {
			head := strings.Join(o.names, ", ")
			if o.metavar != "" {
				head += " " + o.metavar
			}
			fmt.Fprintf(w, "  %s\n        %s\n", head, o.usage)
		}
	}
	if exits != "" {
		fmt.Fprintf(w, "\nExit codes:\n%s", exits)
	}
	fmt.Fprintln(w, "\nGlobal options (see 'cellmapctl --help') may also follow the command.")
}

// metavar is the argument name of option name in the help ("URL").
func (f *flagSet) metavar(name string) string {
	fl := f.fs.Lookup(name)
	if fl == nil {
		return ""
	}
	m, _ := flag.UnquoteUsage(fl)
	return m
}

// keyValues is a repeatable "key=value" option (--extra-spec hw:cpu_policy=dedicated).
type keyValues map[string]string

// String is the pairs as "k1=v1, k2=v2", sorted by key.
func (kv keyValues) String() string { return specsString(kv) }

// Set adds one key=value pair.
func (kv keyValues) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", s)
	}
	kv[k] = v
	return nil
}

// stringList is a repeatable option (--sort-key created_at --sort-key name).
type stringList []string

// String is the values joined with commas.
func (l *stringList) String() string { return strings.Join(*l, ",") }

// Set appends one value.
func (l *stringList) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// rawOption is an option whose text the command parses itself, the way nova-manage receives
// some values as strings (map_instances --max-count): it remembers whether it was given.
type rawOption struct {
	value string
	set   bool
}

// String is the text given.
func (o *rawOption) String() string { return o.value }

// Set records the text.
func (o *rawOption) Set(s string) error {
	o.value, o.set = s, true
	return nil
}
