package fsm

import (
	"fmt"
	"slices"
	"time"

	"github.com/cellmap/cellmap/api/validate"
)

// Images (log version 4): the image catalogue the compute API's image endpoint (a read-only
// Glance v2 subset) serves. Only the records are kept, never image data.

// Command types of the image catalogue.
const (
	CmdPutImage    CommandType = 12
	CmdDeleteImage CommandType = 13
)

// DiskFormats and ContainerFormats are Glance's.
var (
	DiskFormats      = []string{"ami", "ari", "aki", "vhd", "vhdx", "vmdk", "raw", "qcow2", "vdi", "iso", "ploop"}
	ContainerFormats = []string{"ami", "ari", "aki", "bare", "ovf", "ova", "docker", "compressed"}
)

// Image is a public image of the catalogue.
type Image struct {
	ID              string
	Name            string
	DiskFormat      string
	ContainerFormat string
	MinDiskGB       int64
	MinRAMMB        int64
	CreatedAt       time.Time
	Revision        uint64
}

var imagesTable = &table{name: "image", kind: "images", bucket: []byte("images"), newRec: func() Record { return &Image{} }}

// PutImage adds an image; an id in use is ErrExists.
type PutImage struct{ Image Image }

// DeleteImage removes an image (servers keep their image reference).
type DeleteImage struct{ ID string }

func (*PutImage) Type() CommandType      { return CmdPutImage }
func (c *PutImage) marshal(e *encoder)   { c.Image.marshal(e) }
func (c *PutImage) unmarshal(d *decoder) { c.Image.unmarshal(d) }

// Validate checks the image as POST /v1/images does.
func (c *PutImage) Validate() error {
	if err := c.Image.validate(); err != nil {
		return invalid("put_image", err)
	}
	return nil
}

func (*DeleteImage) Type() CommandType      { return CmdDeleteImage }
func (c *DeleteImage) marshal(e *encoder)   { e.str(c.ID) }
func (c *DeleteImage) unmarshal(d *decoder) { c.ID = d.str() }

// Validate checks the image id.
func (c *DeleteImage) Validate() error {
	if err := validate.Name("id", c.ID, true); err != nil {
		return invalid("delete_image", err)
	}
	return nil
}

func (i *Image) Key() string { return i.ID }
func (i *Image) rev() uint64 { return i.Revision }

func (i *Image) marshal(e *encoder) {
	e.str(i.ID)
	e.str(i.Name)
	e.str(i.DiskFormat)
	e.str(i.ContainerFormat)
	e.varint(i.MinDiskGB)
	e.varint(i.MinRAMMB)
	e.timestamp(i.CreatedAt)
	e.uvarint(i.Revision)
}

func (i *Image) unmarshal(d *decoder) {
	i.ID, i.Name, i.DiskFormat, i.ContainerFormat = d.str(), d.str(), d.str(), d.str()
	i.MinDiskGB, i.MinRAMMB = d.int64v(), d.int64v()
	i.CreatedAt = d.timestamp()
	i.Revision = d.uvarint()
}

func (i *Image) stamp(ac *applyCtx, _ Record) { i.Revision, i.CreatedAt = ac.index, ac.now }

func (i *Image) validate() error {
	switch {
	case !slices.Contains(DiskFormats, i.DiskFormat):
		return fmt.Errorf("disk_format %q is not one of %v", i.DiskFormat, DiskFormats)
	case !slices.Contains(ContainerFormats, i.ContainerFormat):
		return fmt.Errorf("container_format %q is not one of %v", i.ContainerFormat, ContainerFormats)
	case i.MinDiskGB < 0 || i.MinRAMMB < 0:
		return fmt.Errorf("min_disk and min_ram must not be negative")
	}
	return firstError(validate.Name("id", i.ID, true), validate.Name("name", i.Name, true))
}

func (f *FSM) applyPutImage(ac *applyCtx, c *PutImage) (*Result, error) {
	img := c.Image
	if img.ID == "" {
		return failResult(ac, -1, "image: id is required: %w", ErrInvalid), nil
	}
	prev, err := imagesTable.get(ac.tx, img.ID)
	if err != nil {
		return nil, err
	}
	if prev != nil {
		return failResult(ac, -1, "image %s: %w", img.ID, ErrExists), nil
	}
	img.stamp(ac, nil)
	return withRecord(okResult(ac), &img), imagesTable.put(ac, &img, nil)
}

func (f *FSM) applyDeleteImage(ac *applyCtx, c *DeleteImage) (*Result, error) {
	prev, err := imagesTable.get(ac.tx, c.ID)
	if err != nil {
		return nil, err
	}
	if prev == nil {
		return failResult(ac, -1, "image %s: %w", c.ID, ErrNotFound), nil
	}
	return okResult(ac), imagesTable.del(ac, prev)
}

// Image returns an image by id (ErrNotFound when unknown).
func (r *Reader) Image(id string) (*Image, error) { return getAs[*Image](r.tx, imagesTable, id) }

// Images returns every image, by id.
func (r *Reader) Images() ([]*Image, error) { return listAs[*Image](r.tx, imagesTable, nil) }
