//go:build watchbug

package client

import "github.com/cellmap/cellmap/api"

// bugDroppedEvent is the live event a watchbug build drops (the third one each cache
// applies): the cache then misses a change, and the chaos harness's watch checker must say
// so. Never build a release with this tag.
const bugDroppedEvent = 3

func (f *follower) bugDrops(*api.WatchEvent) bool { return f.liveEvents == bugDroppedEvent }
