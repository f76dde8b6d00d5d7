//go:build !watchbug

package client

import "github.com/cellmap/cellmap/api"

// bugDrops is the seam of the watchbug build tag (cache_bug_on.go), which makes the cache
// lose one event to prove the chaos harness's watch checker can fail. Normal builds never
// drop an event.
func (f *follower) bugDrops(*api.WatchEvent) bool { return false }
