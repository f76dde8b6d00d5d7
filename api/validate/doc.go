// Package validate holds the input rules the API tier (httpapi, cellproxy), the leader before
// it proposes (fsm) and the cell conductors share: uuids, free-form names and identifiers,
// string maps, timestamps, cell URLs, flavor and compute host sizes. They run in separate
// processes, so the rules live here, in a leaf package all import, and a field has one
// definition of valid wherever it is checked. cellmapctl uses the same uuid rule.
//
// Every failure is an [*Error] whose message is the detail alone, and matches [ErrInvalid].
// The package imports nothing of the project.
package validate
