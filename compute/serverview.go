package compute

import (
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"time"

	"github.com/cellmap/cellmap/api"
)

// Nova's time formats: utils.isotime for created/updated, str(datetime) for OS-SRV-USG.
const (
	isoTime = "2006-01-02T15:04:05Z"
	pyTime  = "2006-01-02 15:04:05.000000"
)

// isMinimal reports whether a server is a down cell's minimal record (no name: Nova's
// "'display_name' not in instance").
func isMinimal(s *api.Server) bool { return s.Status == api.StatusUnknown && s.Name == "" }

// vmState returns Nova's vm_state, task_state and power_state of a status.
func vmState(status string) (vm string, task any, power int) {
	switch status {
	case api.StatusActive:
		return "active", nil, 1
	case api.StatusBuild:
		return "building", "scheduling", 0
	case api.StatusError:
		return "error", nil, 0
	case api.StatusDeleted:
		return "deleted", nil, 0
	}
	return strings.ToLower(status), nil, 0
}

// hostID is Nova's hostId: a hash of project and host, "" without a host.
func hostID(project, host string) string {
	if host == "" {
		return ""
	}
	sum := sha256.Sum224([]byte(project + host))
	return hex.EncodeToString(sum[:])
}

var hostnameUnsafe = regexp.MustCompile(`[^a-z0-9-]+`)

// hostname is the guest hostname Nova derives from a server's name.
func hostname(name string) string {
	h := strings.Trim(hostnameUnsafe.ReplaceAllString(strings.ToLower(strings.ReplaceAll(name, " ", "-")), ""), "-.")
	if len(h) > 63 {
		h = h[:63]
	}
	return h
}

// imageView is a server's image: its id and bookmark, or "" for none (boot from volume).
func (q *request) imageView(ref string) any {
	if ref == "" {
		return ""
	}
	return map[string]any{"id": ref, "links": []link{{Rel: "bookmark", Href: q.bookmark("images", ref)}}}
}

// serverFlavor is a server's flavor: a link before 2.47, the embedded size after.
func (q *request) serverFlavor(f *api.Flavor) any {
	if f == nil {
		return map[string]any{}
	}
	if !q.atLeast(47) {
		return map[string]any{"id": f.ID, "links": []link{{Rel: "bookmark", Href: q.bookmark("flavors", f.ID)}}}
	}
	specs := f.ExtraSpecs
	if specs == nil {
		specs = map[string]string{}
	}
	return map[string]any{"vcpus": f.VCPUs, "ram": f.RAMMB, "disk": f.DiskGB, "ephemeral": 0, "swap": 0,
		"original_name": f.Name, "extra_specs": specs}
}

// serverBasic is the GET /servers view.
func (q *request) serverBasic(s *api.Server, downSupport bool) map[string]any {
	if downSupport && isMinimal(s) {
		return map[string]any{"id": s.ID, "status": api.StatusUnknown, "links": q.links("servers", s.ID)}
	}
	return map[string]any{"id": s.ID, "name": s.Name, "links": q.links("servers", s.ID)}
}

// serverDown is a down cell's minimal record: the listing keys, and with show the request
// spec's (Nova's _show_from_down_cell).
func (q *request) serverDown(s *api.Server, show bool) map[string]any {
	out := map[string]any{"id": s.ID, "status": api.StatusUnknown, "tenant_id": s.TenantID,
		"created": s.Created.UTC().Format(isoTime), "links": q.links("servers", s.ID)}
	if !show {
		return out
	}
	out["image"] = q.imageView(s.Image)
	out["flavor"] = q.serverFlavor(s.Flavor)
	az := s.AvailabilityZone
	if az == "" {
		az = "UNKNOWN"
	}
	out["OS-EXT-AZ:availability_zone"] = az
	out["OS-EXT-STS:power_state"] = 0
	user := s.UserID
	if user == "" {
		user = "UNKNOWN"
	}
	out["user_id"] = user
	if q.atLeast(71) {
		out["server_groups"] = q.place.serverGroups(s.ID)
	}
	return out
}

// serverFull is the GET /servers/detail and GET /servers/{id} view (Nova's show), shaped by
// the request's microversion; show adds what only the single-server view has.
func (q *request) serverFull(s *api.Server, downSupport, show bool) map[string]any {
	if downSupport && isMinimal(s) {
		return q.serverDown(s, show)
	}
	updated := s.Created
	if s.Updated != nil {
		updated = *s.Updated
	}
	metadata := s.Metadata
	if metadata == nil {
		metadata = map[string]string{}
	}
	vm, task, power := vmState(s.Status)
	out := map[string]any{
		"accessIPv4": "", "accessIPv6": "", "addresses": map[string]any{},
		"created": s.Created.UTC().Format(isoTime), "updated": updated.UTC().Format(isoTime),
		"flavor": q.serverFlavor(s.Flavor), "hostId": hostID(s.TenantID, s.Host), "id": s.ID,
		"image": q.imageView(s.Image), "links": q.links("servers", s.ID), "metadata": metadata,
		"name": s.Name, "status": s.Status, "tenant_id": s.TenantID, "user_id": s.UserID,
		"OS-DCF:diskConfig":           "MANUAL",
		"OS-EXT-AZ:availability_zone": q.place.serverZone(s.AvailabilityZone, s.Host),
		"config_drive":                "", "key_name": nil,
		"OS-SRV-USG:launched_at": nil, "OS-SRV-USG:terminated_at": nil,
		"OS-EXT-STS:task_state": task, "OS-EXT-STS:vm_state": vm, "OS-EXT-STS:power_state": power,
		"os-extended-volumes:volumes_attached": []any{},
	}
	if s.Status == api.StatusActive && s.Updated != nil {
		out["OS-SRV-USG:launched_at"] = formatPyTime(*s.Updated)
	}
	switch s.Status {
	case api.StatusActive, api.StatusBuild:
		out["progress"] = 0
	case api.StatusError, api.StatusDeleted:
		if s.Fault != nil {
			out["fault"] = map[string]any{"code": s.Fault.Code, "message": s.Fault.Message, "created": updated.UTC().Format(isoTime)}
		}
	}
	q.extendedAttributes(out, s)
	q.laterFields(out, s, show)
	return out
}

// extendedAttributes adds OS-EXT-SRV-ATTR (admins only, as Nova's default policy).
func (q *request) extendedAttributes(out map[string]any, s *api.Server) {
	if !q.admin() {
		return
	}
	var host any
	if s.Host != "" {
		host = s.Host
	}
	out["OS-EXT-SRV-ATTR:host"] = host
	out["OS-EXT-SRV-ATTR:hypervisor_hostname"] = host
	out["OS-EXT-SRV-ATTR:instance_name"] = instanceName(s.ID)
	if q.atLeast(3) {
		out["OS-EXT-SRV-ATTR:hostname"] = hostname(s.Name)
		out["OS-EXT-SRV-ATTR:kernel_id"] = ""
		out["OS-EXT-SRV-ATTR:ramdisk_id"] = ""
		out["OS-EXT-SRV-ATTR:launch_index"] = 0
		out["OS-EXT-SRV-ATTR:reservation_id"] = reservationID(s.ID)
		out["OS-EXT-SRV-ATTR:root_device_name"] = nil
		out["OS-EXT-SRV-ATTR:user_data"] = nil
	}
}

// instanceName stands for Nova's instance-%08x (cellmap has no integer instance ids).
func instanceName(uuid string) string { return "instance-" + strings.ReplaceAll(uuid, "-", "")[:8] }

// reservationID stands for Nova's r-xxxxxxxx reservation of a create.
func reservationID(uuid string) string { return "r-" + strings.ReplaceAll(uuid, "-", "")[24:] }

// laterFields adds what later microversions show.
func (q *request) laterFields(out map[string]any, s *api.Server, show bool) {
	if q.atLeast(9) {
		out["locked"] = false
	}
	if q.atLeast(16) && q.admin() {
		status := ""
		if s.Host != "" {
			status = "UP"
		}
		out["host_status"] = status
	}
	if q.atLeast(19) {
		out["description"] = nil
	}
	if q.atLeast(26) {
		out["tags"] = []string{}
	}
	if q.atLeast(63) {
		out["trusted_image_certificates"] = nil
	}
	if show && q.atLeast(71) {
		out["server_groups"] = q.place.serverGroups(s.ID)
	}
	if q.atLeast(73) {
		out["locked_reason"] = nil
	}
	if q.atLeast(90) && !q.admin() {
		out["OS-EXT-SRV-ATTR:hostname"] = hostname(s.Name)
	}
}

// formatPyTime formats t as Python's str(datetime) of a naive UTC time.
func formatPyTime(t time.Time) string {
	t = t.UTC()
	if t.Nanosecond()/1000 == 0 {
		return t.Format("2006-01-02 15:04:05")
	}
	return t.Format(pyTime)
}
