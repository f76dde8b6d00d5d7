package fsm

import (
	"errors"
	"reflect"
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
	empty := map[string]string{}
	for _, c := range []Command{&CreateUser{User: u}, &UpdateUser{ID: id, PasswordHash: &newHash, Roles: &roles},
		&UpdateUser{ID: id, Roles: &empty}, &DeleteUser{ID: id}} {
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
