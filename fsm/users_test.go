package fsm

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestUsers: the users of the built-in identity (log version 5): create once per id and per
// name, validation, lookups by id and name, password and role updates, delete; the commands
// round-trip through the log codec in the version 5 layout.
func TestUsers(t *testing.T) {
	f := newTestFSM(t)
	const id = "6f1ed002-ab5d-42de-b8e7-4b3c1c7e0d3a"
	hash := PasswordHashPrefix + "v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	u := User{ID: id, Name: "alice", Domain: DefaultDomain, PasswordHash: hash, Roles: map[string]string{"demo": "service"}}
	f.mustApply(&CreateUser{User: u})
	f.wantErr(&CreateUser{User: u}, ErrExists)
	other := u
	other.ID = "7f1ed002-ab5d-42de-b8e7-4b3c1c7e0d3a"
	f.wantErr(&CreateUser{User: other}, ErrExists) // same name
	for name, bad := range map[string]User{
		"domain":  {ID: id, Name: "x", Domain: "other", PasswordHash: hash},
		"no name": {ID: id, Domain: DefaultDomain, PasswordHash: hash},
		"slash":   {ID: id, Name: "a/b", Domain: DefaultDomain, PasswordHash: hash},
		"hash":    {ID: id, Name: "x", Domain: DefaultDomain, PasswordHash: "plaintext"},
		"role":    {ID: id, Name: "x", Domain: DefaultDomain, PasswordHash: hash, Roles: map[string]string{"demo": "root"}},
		"project": {ID: id, Name: "x", Domain: DefaultDomain, PasswordHash: hash, Roles: map[string]string{"": "reader"}},
		"id":      {ID: "alice", Name: "x", Domain: DefaultDomain, PasswordHash: hash},
	} {
		if err := (&CreateUser{User: bad}).Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	newHash := hash + "x"
	roles := map[string]string{"demo": "reader", "ops": "admin"}
	f.mustApply(&UpdateUser{ID: id, PasswordHash: &newHash})
	f.mustApply(&UpdateUser{ID: id, Roles: &roles})
	f.wantErr(&UpdateUser{ID: other.ID, Roles: &roles}, ErrNotFound)
	if err := (&UpdateUser{ID: id}).Validate(); !errors.Is(err, ErrInvalid) {
		t.Errorf("empty update: %v, want invalid", err)
	}
	f.read(func(r *Reader) error {
		got, err := r.UserByName(DefaultDomain, "alice")
		if err != nil || got.ID != id || got.PasswordHash != newHash || !reflect.DeepEqual(got.Roles, roles) ||
			got.CreatedAt.IsZero() || got.Revision == 0 {
			t.Errorf("by name: %+v %v", got, err)
		}
		if _, err := r.UserByName(DefaultDomain, "bob"); !errors.Is(err, ErrNotFound) {
			t.Errorf("unknown name: %v", err)
		}
		if all, err := r.Users(); err != nil || len(all) != 1 {
			t.Errorf("users %v %v", all, err)
		}
		return nil
	})
	f.mustApply(&DeleteUser{ID: id})
	f.wantErr(&DeleteUser{ID: id}, ErrNotFound)
	f.mustApply(&CreateUser{User: other}) // the name is free again
	f.read(func(r *Reader) error {
		if got, err := r.User(other.ID); err != nil || got.Name != "alice" {
			t.Errorf("recreated: %+v %v", got, err)
		}
		return nil
	})

	now := time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC)
	tok := ACLToken{AccessorID: "8f1ed002-ab5d-42de-b8e7-4b3c1c7e0d3a", SecretHash: strings.Repeat("a", 64), Role: "admin",
		UserID: id, UserProject: "ops"}
	if c := (&TokenCreate{Token: tok}); Version(c) != 5 || c.Validate() != nil {
		t.Fatalf("an identity token: version %d, %v; want 5, valid", Version(c), c.Validate())
	}
	if c := (&TokenCreate{Token: ACLToken{AccessorID: tok.AccessorID, SecretHash: tok.SecretHash, Role: "admin", UserProject: "x"}}); c.Validate() == nil {
		t.Fatal("user_project without user_id accepted")
	}
	empty := map[string]string{}
	for _, c := range []Command{&CreateUser{User: u}, &UpdateUser{ID: id, PasswordHash: &newHash, Roles: &roles},
		&UpdateUser{ID: id, Roles: &empty}, &DeleteUser{ID: id}, &TokenCreate{Token: tok}} {
		entry := Encode(c, now)
		if entry[0] != versionedEntry || entry[1] != 5 || Version(c) != 5 {
			t.Fatalf("%s: entry starts %x, want the version 5 header", c.Type(), entry[:2])
		}
		got, _, err := Decode(entry)
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Fatalf("%s: decoded %#v %v", c.Type(), got, err)
		}
	}
}

// TestUserChangesRevokeTokens: updating a user (password or roles) or deleting it deletes the
// tokens it was issued, and no other token.
func TestUserChangesRevokeTokens(t *testing.T) {
	f := newTestFSM(t)
	const id = "6f1ed002-ab5d-42de-b8e7-4b3c1c7e0d3a"
	hash := PasswordHashPrefix + "v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA"
	f.mustApply(&CreateUser{User: User{ID: id, Name: "alice", Domain: DefaultDomain, PasswordHash: hash}})
	token := func(n int, user string) ACLToken {
		return ACLToken{AccessorID: fmt.Sprintf("%08d-ab5d-42de-b8e7-4b3c1c7e0d3a", n), SecretHash: fmt.Sprintf("%064d", n),
			Role: "reader", ProjectID: "demo", UserID: user}
	}
	count := func() (mine, others int) {
		f.read(func(r *Reader) error {
			ts, err := r.Tokens()
			for _, tk := range ts {
				if tk.UserID == id {
					mine++
				} else {
					others++
				}
			}
			return err
		})
		return mine, others
	}
	f.mustApply(&TokenCreate{Token: token(1, id)})
	f.mustApply(&TokenCreate{Token: token(2, "")})
	if mine, others := count(); mine != 1 || others != 1 {
		t.Fatalf("before: %d of the user's, %d others", mine, others)
	}
	roles := map[string]string{"demo": "reader"}
	f.mustApply(&UpdateUser{ID: id, Roles: &roles})
	if mine, others := count(); mine != 0 || others != 1 {
		t.Fatalf("after an update: %d of the user's, %d others; want 0, 1", mine, others)
	}
	f.mustApply(&TokenCreate{Token: token(3, id)})
	f.mustApply(&DeleteUser{ID: id})
	if mine, others := count(); mine != 0 || others != 1 {
		t.Fatalf("after the delete: %d of the user's, %d others; want 0, 1", mine, others)
	}
}

// TestPurgeTokens: a purge deletes the named tokens that expired at the entry's time, and
// keeps unknown, never-expiring and not-yet-expired ones; ExpiredTokens finds what to name;
// the command is validated and round-trips through the log codec (version 5).
func TestPurgeTokens(t *testing.T) {
	f := newTestFSM(t)
	f.now = time.Date(2026, 12, 5, 12, 0, 0, 0, time.UTC)
	acc := func(n int) string { return fmt.Sprintf("%08d-ab5d-42de-b8e7-4b3c1c7e0d3a", n) }
	expiring := map[int]time.Duration{1: -time.Hour, 2: 0, 3: time.Hour} // relative to the purge's time
	for n, d := range expiring {
		// the purge entry is stamped f.now plus 4 entries' second each (entry adds one per apply)
		f.mustApply(&TokenCreate{Token: ACLToken{AccessorID: acc(n), SecretHash: fmt.Sprintf("%064d", n), Role: "reader",
			ExpiresAt: f.now.Add(time.Duration(5-n)*time.Second + d)}})
	}
	f.mustApply(&TokenCreate{Token: ACLToken{AccessorID: acc(4), SecretHash: fmt.Sprintf("%064d", 4), Role: "reader"}})
	purgeAt := f.now.Add(time.Second)
	f.read(func(r *Reader) error {
		got, err := r.ExpiredTokens(purgeAt, 10)
		if want := []string{acc(1), acc(2)}; err != nil || !reflect.DeepEqual(got, want) {
			t.Errorf("expired at the purge's time: %v %v, want %v", got, err, want)
		}
		if got, err := r.ExpiredTokens(purgeAt, 1); err != nil || len(got) != 1 {
			t.Errorf("limit 1: %v %v", got, err)
		}
		return nil
	})
	res := f.mustApply(&PurgeTokens{Accessors: []string{acc(1), acc(2), acc(3), acc(4), acc(9)}})
	if !res.Changed {
		t.Error("a purge that deleted tokens reports no change")
	}
	f.read(func(r *Reader) error {
		ts, err := r.Tokens()
		var left []string
		for _, tk := range ts {
			left = append(left, tk.AccessorID)
		}
		if want := []string{acc(3), acc(4)}; err != nil || !reflect.DeepEqual(left, want) {
			t.Errorf("left %v %v, want %v", left, err, want)
		}
		return nil
	})
	if res := f.mustApply(&PurgeTokens{Accessors: []string{acc(3)}}); res.Changed {
		t.Error("purging an unexpired token changed the state")
	}
	many := make([]string, MaxPurgeTokens+1)
	for i := range many {
		many[i] = acc(i)
	}
	for name, c := range map[string]*PurgeTokens{"empty": {}, "too many": {Accessors: many}, "bad id": {Accessors: []string{"x"}}} {
		if err := c.Validate(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: %v, want invalid", name, err)
		}
	}
	c := &PurgeTokens{Accessors: []string{acc(1), acc(2)}}
	got, _, err := Decode(Encode(c, f.now))
	if err != nil || !reflect.DeepEqual(got, Command(c)) || Version(c) != 5 {
		t.Errorf("round trip: %+v %v (version %d)", got, err, Version(c))
	}
}
