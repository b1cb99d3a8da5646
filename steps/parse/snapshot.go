package parse

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// SnapshotList is a parsed `nodetool listsnapshots`.
type SnapshotList struct {
	// Snapshots holds one entry per snapshot and table, in printed order.
	Snapshots []SnapshotEntry
	// TotalTrueBytes is the "Total TrueDiskSpaceUsed" value in bytes.
	TotalTrueBytes int64
}

// SnapshotEntry is one row of listsnapshots: one table of one snapshot.
type SnapshotEntry struct {
	// Tag is the snapshot name.
	Tag string
	// Keyspace and Table ("Column family name") the row is about.
	Keyspace, Table string
	// TrueBytes is "True size" and SizeOnDiskBytes "Size on disk", in bytes.
	TrueBytes, SizeOnDiskBytes int64
	// Created and Expires are the 4.1 "Creation time"/"Expiration time"
	// columns; zero when absent (4.0) or empty (no TTL).
	Created, Expires time.Time
}

// Tags returns the distinct snapshot names, in first-seen order.
func (l *SnapshotList) Tags() []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range l.Snapshots {
		if !seen[s.Tag] {
			seen[s.Tag] = true
			out = append(out, s.Tag)
		}
	}
	return out
}

// HasTag reports whether a snapshot named tag is listed.
func (l *SnapshotList) HasTag(tag string) bool {
	for _, s := range l.Snapshots {
		if s.Tag == tag {
			return true
		}
	}
	return false
}

var listSnapshotColumns = []string{"Snapshot name", "Keyspace name", "Column family name", "True size", "Size on disk", "Creation time", "Expiration time"}

// ParseListSnapshots parses `nodetool listsnapshots` in the 4.0 (5 columns)
// and 4.1 (7 columns, with creation and expiration time) layouts, and the
// "There are no snapshots" reply. Cells are cut at the header's column
// offsets, since sizes such as "4.86 KiB" contain a space.
func ParseListSnapshots(text string) (*SnapshotList, error) {
	const what = "nodetool listsnapshots"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	sl := &SnapshotList{}
	var starts []int // byte offset of each column in the header
	state := "start"
	for i, l := range lines(text) {
		n := i + 1
		if l == "" {
			continue
		}
		switch state {
		case "start":
			if l != "Snapshot Details:" {
				return nil, unexpected(what, n, l)
			}
			state = "details"
		case "details":
			if l == "There are no snapshots" {
				return sl, nil
			}
			if !strings.HasPrefix(l, "Snapshot name") {
				return nil, unexpected(what, n, l)
			}
			for j, c := range listSnapshotColumns {
				k := strings.Index(l, c)
				if k < 0 {
					if j < 5 {
						return nil, fmt.Errorf("%s: line %d: no %q column: %q", what, n, clip(c), clip(l))
					}
					break
				}
				starts = append(starts, k)
			}
			state = "rows"
		case "rows":
			if v, ok := strings.CutPrefix(l, "Total TrueDiskSpaceUsed:"); ok {
				b, err := ParseSize(v)
				if err != nil {
					return nil, fmt.Errorf("%s: line %d: %w: %q", what, n, err, clip(l))
				}
				sl.TotalTrueBytes = b
				state = "done"
				continue
			}
			e, err := parseSnapshotRow(l, starts)
			if err != nil {
				return nil, fmt.Errorf("%s: line %d: %w: %q", what, n, err, clip(l))
			}
			sl.Snapshots = append(sl.Snapshots, e)
		case "done":
			return nil, unexpected(what, n, l)
		}
	}
	switch state {
	case "start", "details":
		return nil, fmt.Errorf("%s: no snapshot table: %w", what, ErrTruncated)
	case "rows":
		return nil, fmt.Errorf("%s: no \"Total TrueDiskSpaceUsed\" line: %w", what, ErrTruncated)
	}
	return sl, nil
}

// parseSnapshotRow cuts one listsnapshots row at the header offsets.
func parseSnapshotRow(l string, starts []int) (SnapshotEntry, error) {
	cells := make([]string, len(starts))
	for j, s := range starts {
		if s >= len(l) {
			continue
		}
		if s > 0 && l[s-1] != ' ' {
			return SnapshotEntry{}, fmt.Errorf("row not aligned with the header at column %d", j+1)
		}
		end := len(l)
		if j+1 < len(starts) && starts[j+1] < end {
			end = starts[j+1]
		}
		cells[j] = strings.TrimSpace(l[s:end])
	}
	e := SnapshotEntry{Tag: cells[0], Keyspace: cells[1], Table: cells[2]}
	if e.Tag == "" || e.Keyspace == "" || e.Table == "" {
		return SnapshotEntry{}, fmt.Errorf("empty snapshot, keyspace or table cell")
	}
	var err error
	if e.TrueBytes, err = ParseSize(cells[3]); err != nil {
		return SnapshotEntry{}, err
	}
	if e.SizeOnDiskBytes, err = ParseSize(cells[4]); err != nil {
		return SnapshotEntry{}, err
	}
	for j, dst := range []*time.Time{&e.Created, &e.Expires} {
		if 5+j < len(cells) && cells[5+j] != "" {
			if *dst, err = time.Parse(time.RFC3339Nano, cells[5+j]); err != nil {
				return SnapshotEntry{}, fmt.Errorf("%s: %w", listSnapshotColumns[5+j], err)
			}
		}
	}
	return e, nil
}

// SnapshotResult is the parsed reply of `nodetool snapshot`.
type SnapshotResult struct {
	// AllKeyspaces is true for "[all keyspaces]".
	AllKeyspaces bool
	// Targets are the keyspaces (or keyspace.table entries of --kt-list)
	// inside the brackets, as printed.
	Targets []string
	// Tag is the requested snapshot name ("with snapshot name [TAG]").
	Tag string
	// Options is the options map text, e.g. "skipFlush=false, ttl=1h".
	Options string
	// Directory is the "Snapshot directory: TAG" value; equal to Tag.
	Directory string
}

var snapshotRequestRE = regexp.MustCompile(`^Requested creating snapshot\(s\) for \[(.*)\] with snapshot name \[(.*)\] and options \{(.*)\}$`)

// ParseSnapshotOutput parses the reply of `nodetool snapshot`: the
// "Requested creating snapshot(s) for [...] with snapshot name [TAG] and
// options {...}" line and "Snapshot directory: TAG". It accepts the request
// line hard-wrapped (as in the Apache docs). "error: Snapshot TAG already
// exists." yields a *SnapshotExistsError. A reply whose directory differs
// from the requested tag, or that lacks the directory line, is an error.
func ParseSnapshotOutput(text string) (*SnapshotResult, error) {
	const what = "nodetool snapshot"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var req strings.Builder
	res := &SnapshotResult{}
	for i, l := range lines(text) {
		n := i + 1
		t := strings.TrimSpace(l)
		switch {
		case t == "":
			continue
		case strings.HasPrefix(t, "Snapshot directory:"):
			if res.Directory != "" {
				return nil, unexpected(what, n, l)
			}
			res.Directory = strings.TrimSpace(strings.TrimPrefix(t, "Snapshot directory:"))
		case res.Directory != "":
			return nil, unexpected(what, n, l)
		case req.Len() == 0 && !strings.HasPrefix(t, "Requested creating snapshot"):
			return nil, unexpected(what, n, l)
		default:
			// Continuation of a hard-wrapped request line: a word cut
			// after '-' is rejoined, other breaks were spaces.
			if req.Len() > 0 && !strings.HasSuffix(req.String(), "-") {
				req.WriteByte(' ')
			}
			req.WriteString(t)
		}
	}
	if req.Len() == 0 {
		return nil, fmt.Errorf("%s: no \"Requested creating snapshot(s)\" line: %w", what, ErrUnexpectedLine)
	}
	m := snapshotRequestRE.FindStringSubmatch(req.String())
	if m == nil {
		return nil, fmt.Errorf("%s: request line not understood: %w: %q", what, ErrUnexpectedLine, clip(req.String()))
	}
	if m[1] == "all keyspaces" {
		res.AllKeyspaces = true
	} else {
		res.Targets = splitList(m[1])
	}
	res.Tag, res.Options = m[2], m[3]
	if res.Directory == "" {
		return nil, fmt.Errorf("%s: no \"Snapshot directory:\" line: %w", what, ErrTruncated)
	}
	if res.Directory != res.Tag {
		return nil, fmt.Errorf("%s: snapshot directory %q differs from requested tag %q", what, clip(res.Directory), clip(res.Tag))
	}
	return res, nil
}

// ClearSnapshotResult is one "Requested clearing snapshot(s) for [...] with
// snapshot name [TAG]" (or "with [all snapshots]") line of `nodetool clearsnapshot`.
type ClearSnapshotResult struct {
	// AllKeyspaces is true for "[all keyspaces]"; Keyspaces lists them otherwise.
	AllKeyspaces bool
	Keyspaces    []string
	// Tag is the cleared snapshot name; empty when AllSnapshots.
	Tag string
	// AllSnapshots is true for "with [all snapshots]" (--all).
	AllSnapshots bool
}

var clearSnapshotRE = regexp.MustCompile(`^Requested clearing snapshot\(s\) for \[(.*)\] with (?:snapshot name \[(.*)\]|\[(all snapshots)\])$`)

// ParseClearSnapshot parses the reply of `nodetool clearsnapshot`, one
// result per request line; "error: ..." replies (such as "Specify snapshot
// name or --all") yield a *NodetoolError.
func ParseClearSnapshot(text string) ([]ClearSnapshotResult, error) {
	const what = "nodetool clearsnapshot"
	if isBlank(text) {
		return nil, fmt.Errorf("%s: %w", what, ErrEmptyOutput)
	}
	if err := ParseNodetoolError(text); err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	var out []ClearSnapshotResult
	for i, l := range lines(text) {
		if l == "" {
			continue
		}
		m := clearSnapshotRE.FindStringSubmatch(strings.TrimSpace(l))
		if m == nil {
			return nil, unexpected(what, i+1, l)
		}
		r := ClearSnapshotResult{Tag: m[2], AllSnapshots: m[3] != ""}
		if m[1] == "all keyspaces" {
			r.AllKeyspaces = true
		} else {
			r.Keyspaces = splitList(m[1])
		}
		out = append(out, r)
	}
	return out, nil
}
