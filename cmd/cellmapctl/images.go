package main

import (
	"context"
	"sort"

	"github.com/cellmap/cellmap/api"
	"github.com/cellmap/cellmap/client"
)

// Exit codes of the image commands.
const (
	exitImageFailed = 1 // not found, already exists, invalid, or not allowed
)

// imageFailure says what went wrong with image id; ok is false for an unexpected error.
func imageFailure(r *report, id string, err error) (code int, ok bool) {
	switch client.CodeOf(err) {
	case api.CodeNotFound:
		r.say("Image %s not found.", id)
	case api.CodeAlreadyExists:
		r.say("Image %s already exists.", id)
	case api.CodeInvalid:
		r.say("Invalid image: %s", apiMessage(err))
	case api.CodeUnauthenticated, api.CodeForbidden:
		r.say("Refused: %s", apiMessage(err))
	default:
		return 0, false
	}
	return exitImageFailed, true
}

// imageError reports a failed image call: 1 with a message, or 255.
func imageError(e *env, id string, err error) int {
	r := e.report()
	if code, ok := imageFailure(r, id, err); ok {
		return r.done(code)
	}
	return e.fail(err)
}

// image create -------------------------------------------------------------------------------

// imageCreateOptions are the options of image create.
type imageCreateOptions struct {
	id, name, diskFormat, containerFormat string
	minDiskGB, minRAMMB                   int64
}

// imageCreateCommand is the dispatch entry of image create.
func imageCreateCommand() command {
	return command{name: "create", summary: "Add an image to the catalogue (a record: cellmap keeps no image data).",
		exits: "  0 created\n  1 already exists, invalid, or not allowed (operator and admin only)\n",
		new:   func() options { return &imageCreateOptions{} }}
}

// addFlags defines the options of image create.
func (o *imageCreateOptions) addFlags(f *flagSet) {
	f.fs.StringVar(&o.id, "id", "", "the image `ID` (a new uuid when not given)")
	f.fs.StringVar(&o.name, "name", "", "the image `NAME`")
	f.fs.StringVar(&o.diskFormat, "disk-format", "qcow2", "Glance's disk `FORMAT` (raw, qcow2, vmdk, ...)")
	f.fs.StringVar(&o.containerFormat, "container-format", "bare", "Glance's container `FORMAT` (bare, ovf, ...)")
	f.fs.Int64Var(&o.minDiskGB, "min-disk", 0, "smallest root disk in `GB`")
	f.fs.Int64Var(&o.minRAMMB, "min-ram", 0, "least memory in `MB`")
	f.require("name")
}

// run executes image create.
func (o *imageCreateOptions) run(ctx context.Context, e *env, _ []string) int {
	img, err := e.client.CreateImage(ctx, api.Image{ID: o.id, Name: o.name, DiskFormat: o.diskFormat,
		ContainerFormat: o.containerFormat, MinDiskGB: o.minDiskGB, MinRAMMB: o.minRAMMB})
	if err != nil {
		return imageError(e, o.id, err)
	}
	return e.show(img, imageTable(img))
}

// image list ---------------------------------------------------------------------------------

// imageListOptions are the options of image list.
type imageListOptions struct{}

// imageListCommand is the dispatch entry of image list.
func imageListCommand() command {
	return command{name: "list", summary: "List the image catalogue, sorted by name.",
		exits: "  0 listed\n",
		new:   func() options { return &imageListOptions{} }}
}

// addFlags defines the options of image list.
func (o *imageListOptions) addFlags(*flagSet) {}

// run executes image list.
func (o *imageListOptions) run(ctx context.Context, e *env, _ []string) int {
	imgs, err := e.client.Images(ctx)
	if err != nil {
		return e.fail(err)
	}
	sort.SliceStable(imgs, func(i, j int) bool { return imgs[i].Name < imgs[j].Name })
	t := newTable("ID", "Name", "Disk Format", "Container Format")
	for _, i := range imgs {
		t.addRow(i.ID, i.Name, i.DiskFormat, i.ContainerFormat)
	}
	return e.show(api.ImageList{Images: imgs}, t)
}

// image delete -------------------------------------------------------------------------------

// imageDeleteOptions are the options of image delete.
type imageDeleteOptions struct{}

// imageDeleteCommand is the dispatch entry of image delete.
func imageDeleteCommand() command {
	return command{name: "delete", summary: "Remove an image from the catalogue (servers keep their image reference).",
		exits: "  0 deleted\n  1 not found, or not allowed (operator and admin only)\n",
		new:   func() options { return &imageDeleteOptions{} }}
}

// addFlags defines the options of image delete.
func (o *imageDeleteOptions) addFlags(f *flagSet) { f.positional("<image-id>", 1, 1) }

// run executes image delete.
func (o *imageDeleteOptions) run(ctx context.Context, e *env, args []string) int {
	r := e.report()
	if err := e.client.DeleteImage(ctx, args[0]); err != nil {
		if code, ok := imageFailure(r, args[0], err); ok {
			return r.done(code)
		}
		return r.fail(err)
	}
	r.say("Image %s deleted.", args[0])
	return r.done(exitOK)
}

// imageTable is the Field/Value table of one image.
func imageTable(i *api.Image) *table {
	t := newTable("Field", "Value")
	t.align = alignLeft
	t.addRow("ID", i.ID)
	t.addRow("Name", i.Name)
	t.addRow("Disk Format", i.DiskFormat)
	t.addRow("Container Format", i.ContainerFormat)
	t.addRow("Min Disk (GB)", itoa(i.MinDiskGB))
	t.addRow("Min RAM (MB)", itoa(i.MinRAMMB))
	return t
}
