// Package cluster runs cellmapd nodes of a chaos test, each inside its own network namespace
// (see package netns): it builds the server, starts, kills, pauses and restarts node
// processes in their own process groups, asks nodes for their status and waits for the
// cluster to form and to converge.
package cluster

import (
	"context"
	"time"

	"github.com/cellmap/cellmap/internal/proc"
)

// buildTimeout bounds one go build.
const buildTimeout = 5 * time.Minute

// UnsafeReadsTag is the build tag of the deliberately broken read mode (reads skip the
// leadership check); the harness must catch it.
const UnsafeReadsTag = "cellmap_unsafe_reads"

// FaultQuotaTag is the build tag of the deliberately broken quota mode (claims ignore the
// limits); the globals checker must catch it.
const FaultQuotaTag = "cellmap_fault_quota"

// Build compiles cellmapd into dir and returns the binary's path. unsafeReads builds the
// broken read mode, faultQuota the broken quota mode. The cellmap module is found from the
// working directory (see internal/proc.Build).
func Build(ctx context.Context, dir string, unsafeReads, faultQuota bool) (string, error) {
	var tags []string
	if unsafeReads {
		tags = append(tags, UnsafeReadsTag)
	}
	if faultQuota {
		tags = append(tags, FaultQuotaTag)
	}
	return BuildCommand(ctx, dir, "cellmapd", tags...)
}

// BuildCommand compiles the cellmap module's ./cmd/<name> (e.g. "cellconductor") into
// dir/<name> with the build tags and returns the binary's path.
func BuildCommand(ctx context.Context, dir, name string, tags ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, buildTimeout)
	defer cancel()
	bins, err := proc.Build(ctx, dir, tags, name)
	if err != nil {
		return "", err
	}
	return bins[0], nil
}
