// Package thehive is TheHive 5's runbooks (reference/thehive-runbook.md):
// preflight, the hot backup, the guided restore (also of a backup made by
// the documented scripts), the estimate of a backup, and the discovery of
// an inventory for `hotsnap init`.
package thehive
