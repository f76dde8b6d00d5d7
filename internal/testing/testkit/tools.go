package testkit

import (
	"fmt"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// Tool returns the path of an external program a test needs (a Debian package's binary).
// Without it the test says so in one line and is skipped, or fails when the environment
// variable required is "1" (as CI sets it: a skip there would hide a missing part).
func Tool(t testing.TB, name, pkg, required string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	msg := fmt.Sprintf("%s not found (Debian package %s): %s", name, pkg, t.Name())
	if os.Getenv(required) == "1" {
		t.Fatalf("%s, and %s=1 requires it", msg, required)
	}
	fmt.Fprintln(os.Stderr, "SKIP:", msg)
	t.Skip(msg)
	return ""
}

// Interpreter returns the program that runs a script, from its #! line (for a Python tool,
// the Python that has the tool's modules).
func Interpreter(t testing.TB, script string) string {
	t.Helper()
	b, err := os.ReadFile(script)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(strings.TrimPrefix(first, "#!"))
	if len(f) == 0 {
		t.Fatalf("%s has no #! line", script)
	}
	return f[0]
}
