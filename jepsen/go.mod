module github.com/cellmap/cellmap/jepsen

go 1.26.0

require (
	github.com/anishathalye/porcupine v1.3.1
	github.com/cellmap/cellmap v0.0.0
)

replace github.com/cellmap/cellmap => ../
