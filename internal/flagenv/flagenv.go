// Package flagenv lets every flag of a command also be set by an environment variable:
// --node-id is CELLMAP_NODE_ID. An explicit flag wins over the environment.
package flagenv

import (
	"flag"
	"fmt"
	"os"
	"strings"
)

// EnvName is the variable that sets flag name: prefix + upper-cased name with '-' as '_'.
func EnvName(prefix, name string) string {
	return prefix + strings.ToUpper(strings.ReplaceAll(name, "-", "_"))
}

// Apply sets every flag of fs that was not given on the command line from its environment
// variable, if set. lookup is os.LookupEnv in production.
func Apply(fs *flag.FlagSet, prefix string, lookup func(string) (string, bool)) error {
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if given[f.Name] || err != nil {
			return
		}
		if v, ok := lookup(EnvName(prefix, f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", EnvName(prefix, f.Name), v, e)
			}
		}
	})
	return err
}

// Usage documents the environment variables next to the flags.
func Usage(fs *flag.FlagSet, prefix, synopsis string) func() {
	return func() {
		fmt.Fprintf(fs.Output(), "%s\n\nFlags (each also as an environment variable):\n", synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			fmt.Fprintf(fs.Output(), "  --%s (%s)\n    \t%s", f.Name, EnvName(prefix, f.Name), f.Usage)
			if f.DefValue != "" && f.DefValue != "false" {
				fmt.Fprintf(fs.Output(), " (default %s)", f.DefValue)
			}
			fmt.Fprintln(fs.Output())
		})
	}
}

// LookupEnv is os.LookupEnv.
func LookupEnv(k string) (string, bool) { return os.LookupEnv(k) }
