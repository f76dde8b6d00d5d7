module github.com/cellmap/cellmap/jepsen

go 1.26.0

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/cellmap/cellmap v0.0.0
)

require (
	github.com/fatih/color v1.13.0 // indirect
	github.com/hashicorp/go-hclog v1.6.3 // indirect
	github.com/mattn/go-colorable v0.1.12 // indirect
	github.com/mattn/go-isatty v0.0.14 // indirect
	golang.org/x/crypto v0.57.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
)

replace github.com/cellmap/cellmap => ../
