package acl

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/crypto/argon2"
)

// HashParams are argon2id's costs. A stored hash carries its own, so they can change.
type HashParams struct {
	Time      uint32
	MemoryKiB uint32
	Threads   uint8
}

// DefaultHashParams are OWASP's minimum for argon2id (19 MiB, 2 passes, 1 lane).
func DefaultHashParams() HashParams { return HashParams{Time: 2, MemoryKiB: 19 * 1024, Threads: 1} }

// Validate checks the costs.
func (p HashParams) Validate() error {
	if p.Time == 0 || p.Threads == 0 || p.MemoryKiB < 8*uint32(p.Threads) {
		return errors.New("acl: argon2id needs at least one pass, one lane and 8 KiB of memory per lane")
	}
	return nil
}

// ErrBadPassword: the password does not match the hash.
var ErrBadPassword = errors.New("wrong password")

// MaxPasswordBytes bounds what is hashed (longer passwords are refused, not truncated).
const MaxPasswordBytes = 1024

const argonKeyLen = 32

// HashPassword returns the PHC string of password's argon2id hash with a random 16-byte salt:
// $argon2id$v=19$m=M,t=T,p=P$salt$hash (base64 without padding).
func HashPassword(password string, p HashParams) (string, error) {
	if err := p.Validate(); err != nil {
		return "", err
	}
	if password == "" || len(password) > MaxPasswordBytes {
		return "", fmt.Errorf("%w: a password must have 1 to %d bytes", ErrInvalidToken, MaxPasswordBytes)
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, argonKeyLen)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.MemoryKiB, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether password matches encoded (ErrBadPassword when not; another
// error when encoded is not a hash HashPassword makes). The comparison is constant-time.
func CheckPassword(password, encoded string) error {
	p, salt, key, err := parseHash(encoded)
	if err != nil {
		return err
	}
	if len(password) > MaxPasswordBytes {
		return ErrBadPassword
	}
	got := argon2.IDKey([]byte(password), salt, p.Time, p.MemoryKiB, p.Threads, uint32(len(key)))
	if subtle.ConstantTimeCompare(got, key) != 1 {
		return ErrBadPassword
	}
	return nil
}

// parseHash splits a PHC argon2id string; its costs are bounded so a stored hash cannot make a
// check use unbounded memory.
func parseHash(encoded string) (HashParams, []byte, []byte, error) {
	var p HashParams
	parts := strings.Split(encoded, "$")
	bad := fmt.Errorf("acl: not an argon2id hash")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" || parts[2] != fmt.Sprintf("v=%d", argon2.Version) {
		return p, nil, nil, bad
	}
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.MemoryKiB, &p.Time, &p.Threads); err != nil {
		return p, nil, nil, bad
	}
	if p.Validate() != nil || p.MemoryKiB > 1<<20 || p.Time > 64 {
		return p, nil, nil, bad
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	key, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(salt) < 8 || len(key) < 16 {
		return p, nil, nil, bad
	}
	return p, salt, key, nil
}
