package imageapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/fsm"
	"github.com/cellmap/cellmap/httpapi"
	"github.com/cellmap/cellmap/node"
	"github.com/gorilla/mux"
)

// Store reads the replicated state (a *node.Node).
type Store interface {
	Read(ctx context.Context, c node.Consistency, fn func(r *fsm.Reader) error) (node.ReadInfo, error)
}

// Config configures the image API.
type Config struct {
	// Prefix is where the API is mounted ("/image").
	Prefix string
	Store  Store
	// DefaultLimit and MaxLimit are Glance's limit_param_default and api_limit_max.
	DefaultLimit, MaxLimit int
}

// DefaultConfig returns Glance's defaults (Store must be set).
func DefaultConfig() *Config { return &Config{Prefix: "/image", DefaultLimit: 25, MaxLimit: 1000} }

// Validate checks the configuration.
func (c *Config) Validate() error {
	switch {
	case c.Store == nil:
		return errors.New("imageapi: Store is required")
	case c.Prefix == "" || c.Prefix[0] != '/' || strings.HasSuffix(c.Prefix, "/"):
		return errors.New("imageapi: Prefix must start with / and not end with it")
	case c.DefaultLimit <= 0 || c.MaxLimit < c.DefaultLimit:
		return errors.New("imageapi: limits must be positive, MaxLimit at least DefaultLimit")
	}
	return nil
}

// Service is the image API of one node.
type Service struct{ cfg Config }

// New builds the image API.
func New(cfg *Config) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Service{cfg: *cfg}, nil
}

// Mount returns the routes for httpapi: discovery is public, images need a reader.
func (s *Service) Mount() httpapi.Mount {
	p := s.cfg.Prefix
	return httpapi.Mount{Refuse: refuse, Routes: []httpapi.Route{
		{Method: http.MethodGet, Path: p, Perm: acl.PermPublic, Handler: s.versions},
		{Method: http.MethodGet, Path: p + "/", Perm: acl.PermPublic, Handler: s.versions},
		{Method: http.MethodGet, Path: p + "/v2/images", Perm: acl.PermRead, Handler: s.list},
		{Method: http.MethodGet, Path: p + "/v2/images/{id}", Perm: acl.PermRead, Handler: s.show},
	}}
}

// refuse answers a refused request: keystonemiddleware's 401 body, Glance's 403.
func refuse(w http.ResponseWriter, _ *http.Request, status int, err error) {
	if status == http.StatusUnauthorized {
		writeJSON(w, status, map[string]any{"error": map[string]any{"code": status, "title": "Unauthorized",
			"message": "The request you have made requires authentication."}})
		return
	}
	glanceError(w, status, err.Error())
}

// glanceError writes Glance's error as webob answers a JSON client: {"message", "code": "404 Not
// Found", "title"}.
func glanceError(w http.ResponseWriter, status int, msg string) {
	writeJSON(w, status, map[string]string{"message": msg, "code": fmt.Sprintf("%d %s", status, http.StatusText(status)),
		"title": http.StatusText(status)})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// versions is Glance's version list (300 Multiple Choices); v2.0 is the subset served.
func (s *Service) versions(w http.ResponseWriter, r *http.Request) {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	self := scheme + "://" + r.Host + s.cfg.Prefix + "/v2/"
	writeJSON(w, http.StatusMultipleChoices, map[string]any{"versions": []any{map[string]any{
		"id": "v2.0", "status": "CURRENT", "links": []any{map[string]string{"rel": "self", "href": self}}}}})
}

// view is an image as Glance v2 shows it: public, active, without data.
func view(i *fsm.Image) map[string]any {
	at := i.CreatedAt.UTC().Format(time.RFC3339)
	return map[string]any{"id": i.ID, "name": i.Name, "status": "active", "visibility": "public",
		"protected": false, "os_hidden": false, "checksum": nil, "os_hash_algo": nil, "os_hash_value": nil,
		"owner": nil, "size": nil, "virtual_size": nil, "min_ram": i.MinRAMMB, "min_disk": i.MinDiskGB,
		"disk_format": i.DiskFormat, "container_format": i.ContainerFormat, "created_at": at, "updated_at": at,
		"tags": []string{}, "self": "/v2/images/" + i.ID, "file": "/v2/images/" + i.ID + "/file",
		"schema": "/v2/schemas/image"}
}

// show is GET /v2/images/{id}.
func (s *Service) show(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var img *fsm.Image
	_, err := s.cfg.Store.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		img, err = rd.Image(id)
		return err
	})
	switch {
	case errors.Is(err, fsm.ErrNotFound):
		glanceError(w, http.StatusNotFound, "No image found with ID "+id)
	case err != nil:
		glanceError(w, http.StatusServiceUnavailable, err.Error())
	default:
		writeJSON(w, http.StatusOK, view(img))
	}
}

// list is GET /v2/images: newest first by default, with Glance's filters that apply to
// public, active images without data.
func (s *Service) list(w http.ResponseWriter, r *http.Request) {
	v := r.URL.Query()
	var all []*fsm.Image
	_, err := s.cfg.Store.Read(r.Context(), node.Linearizable{}, func(rd *fsm.Reader) error {
		var err error
		all, err = rd.Images()
		return err
	})
	if err != nil {
		glanceError(w, http.StatusServiceUnavailable, err.Error())
		return
	}
	limit := s.cfg.DefaultLimit
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 0 {
			glanceError(w, http.StatusBadRequest, "limit param must be an integer")
			return
		}
		limit = min(n, s.cfg.MaxLimit)
	}
	if err := sortImages(all, v.Get("sort_key"), v.Get("sort_dir")); err != nil {
		glanceError(w, http.StatusBadRequest, err.Error())
		return
	}
	kept := filter(all, v)
	if m := v.Get("marker"); m != "" {
		at := -1
		for i := range kept {
			if kept[i].ID == m {
				at = i
			}
		}
		if at < 0 {
			glanceError(w, http.StatusBadRequest, "marker not found")
			return
		}
		kept = kept[at+1:]
	}
	out := map[string]any{"schema": "/v2/schemas/images", "first": s.cfg.Prefix + "/v2/images"}
	if len(kept) > limit {
		kept = kept[:limit]
		next := r.URL.Query()
		next.Set("marker", kept[len(kept)-1].ID)
		out["next"] = "/v2/images?" + next.Encode()
	}
	items := make([]map[string]any, 0, len(kept))
	for _, i := range kept {
		items = append(items, view(i))
	}
	out["images"] = items
	writeJSON(w, http.StatusOK, out)
}

// filter applies name, visibility, status and os_hidden: every image is public, active and
// visible, so other values select nothing.
func filter(all []*fsm.Image, v map[string][]string) []*fsm.Image {
	get := func(k string) string {
		if vs := v[k]; len(vs) > 0 {
			return vs[len(vs)-1]
		}
		return ""
	}
	name, vis, status, hidden := get("name"), get("visibility"), get("status"), strings.ToLower(get("os_hidden"))
	if (vis != "" && vis != "public" && vis != "all") || (status != "" && status != "active") || hidden == "true" {
		return nil
	}
	var out []*fsm.Image
	for _, i := range all {
		if name == "" || i.Name == name {
			out = append(out, i)
		}
	}
	return out
}

// sortImages orders images by Glance's sort keys (default created_at desc, id as tiebreak).
func sortImages(is []*fsm.Image, key, dir string) error {
	if dir == "" {
		dir = "desc"
	}
	if dir != "asc" && dir != "desc" {
		return fmt.Errorf("invalid sort direction: %s", dir)
	}
	cmp := map[string]func(a, b *fsm.Image) int{
		"":           func(a, b *fsm.Image) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"created_at": func(a, b *fsm.Image) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"updated_at": func(a, b *fsm.Image) int { return a.CreatedAt.Compare(b.CreatedAt) },
		"name":       func(a, b *fsm.Image) int { return strings.Compare(a.Name, b.Name) },
		"id":         func(a, b *fsm.Image) int { return strings.Compare(a.ID, b.ID) },
	}[key]
	if cmp == nil {
		return fmt.Errorf("invalid sort key: %s (cellmap sorts images by created_at, updated_at, name or id)", key)
	}
	sort.SliceStable(is, func(i, j int) bool {
		c := cmp(is[i], is[j])
		if c == 0 {
			c = strings.Compare(is[i].ID, is[j].ID)
		}
		if dir == "desc" {
			return c > 0
		}
		return c < 0
	})
	return nil
}
