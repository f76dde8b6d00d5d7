package api

// QuotaValues are amounts of the counted resources, as Nova names them: instances, cores
// (vcpus) and ram (MB). In limits, -1 is unlimited.
type QuotaValues struct {
	Instances int64 `json:"instances"`
	Cores     int64 `json:"cores"`
	RAM       int64 `json:"ram"`
}

// Quota is a project's limits and usage (GET /v1/quotas/{project}). OwnLimits says whether
// the project has limits of its own or takes the defaults.
type Quota struct {
	ProjectID string      `json:"project_id"`
	Limits    QuotaValues `json:"limits"`
	Usage     QuotaValues `json:"usage"`
	OwnLimits bool        `json:"own_limits"`
}

// QuotaRecord is a quota_usages or quota_limits record of the change stream: a project's
// usage, or its own limits (the key "default" holds the defaults).
type QuotaRecord struct {
	ProjectID string      `json:"project_id"`
	Values    QuotaValues `json:"values"`
}

// QuotaUpdate sets limits (PUT /v1/quotas/{project}, PUT /v1/quota-defaults): a value left
// out keeps the current one.
type QuotaUpdate struct {
	Instances *int64 `json:"instances,omitempty"`
	Cores     *int64 `json:"cores,omitempty"`
	RAM       *int64 `json:"ram,omitempty"`
}

// QuotaDrift is a project whose recorded usage differs from a recount of its servers.
type QuotaDrift struct {
	ProjectID string      `json:"project_id"`
	Recorded  QuotaValues `json:"recorded"`
	Counted   QuotaValues `json:"counted"`
}

// QuotaVerify is the answer of GET /v1/quota-drift (and of POST /v1/quota-drift/fix, with
// Fixed set once the recorded usage was replaced by the recount).
type QuotaVerify struct {
	Projects int          `json:"projects"`
	Drift    []QuotaDrift `json:"drift"`
	Fixed    bool         `json:"fixed,omitempty"`
}
