// Package compute serves the OpenStack compute API v2.1 (Nova's) under /compute, so the real
// `openstack` client and python-novaclient work against cellmap: version discovery,
// microversion negotiation (microversion.go), Nova's error bodies (faults.go), servers through
// the cells data plane (package cellproxy), flavors and their extra specs, os-services,
// os-hypervisors, os-availability-zone and limits.
//
// Routes are registered through httpapi (Mount) with the permission each needs, so the API's
// token guard authenticates and authorizes every one; a token's role maps to Nova's policy:
// reader reads, service creates and deletes servers, operator and admin do what Nova keeps for
// admins (flavor writes, all_tenants, os-services, os-hypervisors). A project-scoped token acts
// in its project only.
//
// Networking, images, volumes, server actions and quotas are not modelled (README, "OpenStack
// clients").
package compute
