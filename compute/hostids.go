package compute

import (
	"crypto/sha1"
	"encoding/binary"
	"fmt"
)

// internalZone is where Nova puts services that are not compute hosts.
const internalZone = "internal"

// stableUUID derives a fixed uuid from a record's identity: services and hypervisors have no
// database ids in cellmap (Nova shows uuids from 2.53).
func stableUUID(parts ...string) string {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	b := h.Sum(nil)[:16]
	b[6] = (b[6] & 0x0f) | 0x50
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// stableInt derives a positive integer id (Nova before 2.53) from the same identity.
func stableInt(parts ...string) int64 {
	h := sha1.New()
	for _, p := range parts {
		h.Write([]byte(p))
		h.Write([]byte{0})
	}
	return int64(binary.BigEndian.Uint32(h.Sum(nil)[:4])>>1) + 1
}
