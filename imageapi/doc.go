// Package imageapi serves a read-only subset of the OpenStack image API (Glance v2) under
// /image from cellmap's replicated image catalogue, so `openstack server create --image NAME`
// and the image names of `openstack server list` resolve: version discovery, GET
// /v2/images (name, visibility, status, limit, marker, sort_key, sort_dir) and GET
// /v2/images/{id}. cellmap keeps no image data: no uploads, downloads or image writes (the
// catalogue is changed through /v1/images and `cellmapctl image`).
package imageapi
