// Package identity is cellmap's built-in identity API: a minimal Keystone v3 for make run and
// small clouds. It serves version discovery under /identity and /identity/v3, and password
// authentication (POST /identity/v3/auth/tokens) for the users of the replicated state (fsm
// users, salted argon2id hashes), issuing cellmap's own tokens (package acl) with a Keystone
// token body: user, project, roles and a service catalog of the compute, image and identity
// endpoints of the node that answered. Tokens are validated (GET) and revoked (DELETE) there
// too. Domains other than Default, groups, application credentials, trusts, federation and
// the identity admin API (users, projects, role assignments through Keystone's API) are not
// modelled: cellmap's own API manages users (/v1/identity/users).
package identity
