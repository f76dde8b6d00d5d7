// Command etcd is the upstream etcd server (go.etcd.io/etcd/server/v3, the version pinned in
// this module's go.mod), built from the Go module proxy so that `make bench-compare` measures
// cellmap against the newest etcd rather than the distribution's. It is etcd's own main: every
// flag and subcommand is etcd's.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() { etcdmain.Main(os.Args) }
