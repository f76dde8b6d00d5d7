package httpapi

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/node"
	"github.com/gorilla/mux"
)

// userRoutes registers the management of the built-in identity's users (admin only).
func (s *Service) userRoutes(r *mux.Router) {
	const users = "/v1/identity/users"
	s.handle(r, http.MethodPost, users, acl.PermAdmin, s.createUser)
	s.handle(r, http.MethodGet, users, acl.PermAdmin, s.listUsers)
	s.handle(r, http.MethodGet, users+"/{user}", acl.PermAdmin, s.getUser)
	s.handle(r, http.MethodPut, users+"/{user}", acl.PermAdmin, s.updateUser)
	s.handle(r, http.MethodDelete, users+"/{user}", acl.PermAdmin, s.deleteUser)
}

// UserOut is a user as the API shows it (never its password hash).
func UserOut(u *fsm.User) api.User {
	roles := u.Roles
	if roles == nil {
		roles = map[string]string{}
	}
	return api.User{ID: u.ID, Name: u.Name, Domain: u.Domain, Roles: roles, CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt,
		Revision: u.Revision}
}

// hashPassword checks a new password and hashes it with the configured costs.
func (s *Service) hashPassword(password string) (string, error) {
	if password == "" || len(password) > acl.MaxPasswordBytes {
		return "", invalidf("password must have 1 to %d bytes", acl.MaxPasswordBytes)
	}
	return acl.HashPassword(password, s.cfg.PasswordHash)
}

func (s *Service) createUser(w http.ResponseWriter, r *http.Request) {
	var req api.UserCreate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if err := validate.Name("name", req.Name, true); err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	hash, err := s.hashPassword(req.Password)
	if err != nil {
		s.failErr(w, err)
		return
	}
	c := &fsm.CreateUser{User: fsm.User{ID: api.NewUUID(), Name: req.Name, Domain: fsm.DefaultDomain, PasswordHash: hash, Roles: req.Roles}}
	if err := c.Validate(); err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	res, ok := s.applied(w, r, c, false)
	if !ok {
		return
	}
	s.logger.Info("user created", "user", c.User.ID, "name", c.User.Name, "by", IdentityFrom(r.Context()).AccessorID)
	s.reply(w, http.StatusCreated, res.Index, UserOut(res.Record.(*fsm.User)))
}

func (s *Service) listUsers(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		us, err := rd.Users()
		out := api.UserList{Users: []api.User{}}
		for _, u := range us {
			out.Users = append(out.Users, UserOut(u))
		}
		return out, err
	})
}

// userNamed finds a user by id or, failing that, by name (Default domain).
func userNamed(rd *fsm.Reader, ref string) (*fsm.User, error) {
	u, err := rd.User(ref)
	if errors.Is(err, fsm.ErrNotFound) {
		u, err = rd.UserByName(fsm.DefaultDomain, ref)
	}
	return u, err
}

func (s *Service) getUser(w http.ResponseWriter, r *http.Request) {
	ref := mux.Vars(r)["user"]
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		u, err := userNamed(rd, ref)
		if err != nil {
			return nil, err
		}
		return UserOut(u), nil
	})
}

// resolveUser reads the id of the user a path names, answering the failure itself.
func (s *Service) resolveUser(w http.ResponseWriter, r *http.Request) (string, bool) {
	var id string
	_, err := s.node.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		u, err := userNamed(rd, mux.Vars(r)["user"])
		if err == nil {
			id = u.ID
		}
		return err
	})
	if err != nil {
		s.failErr(w, err)
		return "", false
	}
	return id, true
}

// updateUser sets a user's password and/or roles and revokes its tokens; it returns once every
// node refuses them (as a token revoke does).
func (s *Service) updateUser(w http.ResponseWriter, r *http.Request) {
	var req api.UserUpdate
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	id, ok := s.resolveUser(w, r)
	if !ok {
		return
	}
	c := &fsm.UpdateUser{ID: id}
	if req.Password != nil {
		hash, err := s.hashPassword(*req.Password)
		if err != nil {
			s.failErr(w, err)
			return
		}
		c.PasswordHash = &hash
	}
	c.Roles = req.Roles
	if err := c.Validate(); err != nil {
		s.failErr(w, invalidf("%v", err))
		return
	}
	res, ok := s.applied(w, r, c, false)
	if !ok {
		return
	}
	s.revoked(r, res.Index)
	s.logger.Info("user updated", "user", id, "password", req.Password != nil, "roles", req.Roles != nil,
		"by", IdentityFrom(r.Context()).AccessorID)
	s.reply(w, http.StatusOK, res.Index, UserOut(res.Record.(*fsm.User)))
}

// deleteUser removes a user and revokes its tokens (204 once every node refuses them).
func (s *Service) deleteUser(w http.ResponseWriter, r *http.Request) {
	id, ok := s.resolveUser(w, r)
	if !ok {
		return
	}
	res, ok := s.applied(w, r, &fsm.DeleteUser{ID: id}, false)
	if !ok {
		return
	}
	s.revoked(r, res.Index)
	s.logger.Info("user deleted", "user", id, "by", IdentityFrom(r.Context()).AccessorID)
	w.Header().Set(api.HeaderIndex, fmt.Sprint(res.Index))
	w.WriteHeader(http.StatusNoContent)
}

// revoked waits until every node applied a write that revoked tokens (Config.Revoked).
func (s *Service) revoked(r *http.Request, index uint64) {
	if s.cfg.Revoked != nil {
		s.cfg.Revoked(r.Context(), index, s.cfg.AuthLease)
	}
}
