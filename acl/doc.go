// Package acl decides who may do what on the HTTP API: roles that include each other
// (reader < service < operator < admin), the permission each operation needs, token secrets
// (generated here, stored by the state only as hashes) and project scoping. It imports
// nothing of cellmap but the role names the state validates (fsm.TokenRoles).
package acl
