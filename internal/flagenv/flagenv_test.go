package flagenv

import (
	"flag"
	"testing"
)

func TestApply(t *testing.T) {
	env := map[string]string{"CELLMAP_NODE_ID": "from-env", "CELLMAP_DATA_DIR": "/env", "CELLMAP_BOOTSTRAP": "true"}
	lookup := func(k string) (string, bool) { v, ok := env[k]; return v, ok }
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	id := fs.String("node-id", "", "")
	dir := fs.String("data-dir", "", "")
	boot := fs.Bool("bootstrap", false, "")
	other := fs.String("http-addr", "default", "")
	if err := fs.Parse([]string{"--data-dir", "/flag"}); err != nil {
		t.Fatal(err)
	}
	if err := Apply(fs, "CELLMAP_", lookup); err != nil {
		t.Fatal(err)
	}
	if *id != "from-env" || *dir != "/flag" || !*boot || *other != "default" {
		t.Fatalf("got id=%q dir=%q bootstrap=%v http=%q, want env for unset flags only", *id, *dir, *boot, *other)
	}
	env["CELLMAP_HTTP_ADDR"] = "x"
	bad := flag.NewFlagSet("t", flag.ContinueOnError)
	bad.Int("http-addr", 0, "")
	bad.Parse(nil)
	if err := Apply(bad, "CELLMAP_", lookup); err == nil {
		t.Fatalf("got nil error for a non-integer env value, want one")
	}
}
