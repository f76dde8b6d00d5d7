package httpapi

import (
	"net/http"

	"github.com/cellmap/cellmap/acl"
	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/api/validate"
	"github.com/cellmap/cellmap/fsm"
	"github.com/gorilla/mux"
)

// imageRoutes registers the image catalogue: readers read it, operators change it.
func (s *Service) imageRoutes(r *mux.Router) {
	s.handle(r, http.MethodGet, "/v1/images", acl.PermRead, s.listImages)
	s.handle(r, http.MethodPost, "/v1/images", acl.PermOperate, s.createImage)
	s.handle(r, http.MethodGet, "/v1/images/{id}", acl.PermRead, s.getImage)
	s.handle(r, http.MethodDelete, "/v1/images/{id}", acl.PermOperate, s.deleteImage)
}

// ImageOut is an image's wire form.
func ImageOut(i *fsm.Image) api.Image {
	return api.Image{ID: i.ID, Name: i.Name, DiskFormat: i.DiskFormat, ContainerFormat: i.ContainerFormat,
		MinDiskGB: i.MinDiskGB, MinRAMMB: i.MinRAMMB, CreatedAt: i.CreatedAt, Revision: i.Revision}
}

func (s *Service) listImages(w http.ResponseWriter, r *http.Request) {
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		is, err := rd.Images()
		if err != nil {
			return nil, err
		}
		out := api.ImageList{Images: make([]api.Image, 0, len(is))}
		for _, i := range is {
			out.Images = append(out.Images, ImageOut(i))
		}
		return out, nil
	})
}

func (s *Service) getImage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := validate.Name("id", id, true); err != nil {
		s.failErr(w, err)
		return
	}
	s.read(w, r, func(rd *fsm.Reader) (any, error) {
		i, err := rd.Image(id)
		if err != nil {
			return nil, err
		}
		return ImageOut(i), nil
	})
}

func (s *Service) createImage(w http.ResponseWriter, r *http.Request) {
	var req api.Image
	if err := decode(w, r, s.cfg.MaxBodyBytes, &req); err != nil {
		s.failErr(w, err)
		return
	}
	if req.Revision != 0 || !req.CreatedAt.IsZero() {
		s.failErr(w, invalidf("revision and created_at are set by the server"))
		return
	}
	if req.ID == "" {
		req.ID = api.NewUUID()
	}
	c := &fsm.PutImage{Image: fsm.Image{ID: req.ID, Name: req.Name, DiskFormat: req.DiskFormat,
		ContainerFormat: req.ContainerFormat, MinDiskGB: req.MinDiskGB, MinRAMMB: req.MinRAMMB}}
	if err := c.Validate(); err != nil {
		s.failErr(w, err)
		return
	}
	res, ok := s.applied(w, r, c, false)
	if !ok {
		return
	}
	s.replyWritten(w, r, http.StatusCreated, res)
}

func (s *Service) deleteImage(w http.ResponseWriter, r *http.Request) {
	s.deleteByID(w, r, func(id string) fsm.Command { return &fsm.DeleteImage{ID: id} })
}
