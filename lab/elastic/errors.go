package elastic

import (
	"fmt"
	"net/http"
	"strings"
)

// apiError is an Elasticsearch REST error: it renders as
// {"error":{"root_cause":[...],"type":...,"reason":...},"status":N}.
type apiError struct {
	status int
	typ    string
	reason string
	// extra holds members written after reason, in order (index, index_uuid, ...).
	extra obj
	// cause, when set, is written as caused_by and the root cause is taken from it.
	cause *apiError
	// simple errors render as {"error":"text","status":N} (routing errors).
	simple bool
	// noStatus drops "status" from a simple error: Elasticsearch 6.x/7.x
	// RestController.handleBadRequest wrote only {"error":"no handler ..."}.
	noStatus bool
	header   http.Header
}

// Error implements error.
func (e *apiError) Error() string { return fmt.Sprintf("%s: %s (HTTP %d)", e.typ, e.reason, e.status) }

func (e *apiError) inner() obj {
	o := obj{{"type", e.typ}, {"reason", e.reason}}
	o = append(o, e.extra...)
	if e.cause != nil {
		o = o.add("caused_by", e.cause.inner())
	}
	return o
}

func (e *apiError) root() *apiError {
	r := e
	for r.cause != nil && r.cause.typ == e.typ {
		r = r.cause
	}
	return r
}

// body returns the JSON document ES sends for this error.
func (e *apiError) body() obj {
	if e.simple {
		if e.noStatus {
			return obj{{"error", e.reason}}
		}
		return obj{{"error", e.reason}, {"status", e.status}}
	}
	r := e.root()
	rc := obj{{"type", r.typ}, {"reason", r.reason}}
	rc = append(rc, r.extra...)
	out := obj{{"root_cause", []obj{rc}}}
	out = append(out, e.inner()...)
	return obj{{"error", out}, {"status", e.status}}
}

func newErr(status int, typ, reason string, extra ...kv) *apiError {
	return &apiError{status: status, typ: typ, reason: reason, extra: obj(extra)}
}

func errIndexNotFound(name string) *apiError {
	return newErr(http.StatusNotFound, "index_not_found_exception", "no such index ["+name+"]",
		kv{"resource.type", "index_or_alias"}, kv{"resource.id", name}, kv{"index_uuid", "_na_"}, kv{"index", name})
}

func errIndexClosed(name, uuid string) *apiError {
	return newErr(http.StatusBadRequest, "index_closed_exception", "closed", kv{"index_uuid", uuid}, kv{"index", name})
}

func errRepoMissing(repo string) *apiError {
	return newErr(http.StatusNotFound, "repository_missing_exception", "["+repo+"] missing")
}

// errReadonly is BlobStoreRepository's refusal to write into a readonly
// repository (RepositoryException: HTTP 500); what is "create snapshot in"
// or "delete snapshot from".
func errReadonly(repo, what string) *apiError {
	return newErr(http.StatusInternalServerError, "repository_exception", "["+repo+"] cannot "+what+" a readonly repository")
}

func errSnapshotMissing(repo, snap string) *apiError {
	return newErr(http.StatusNotFound, "snapshot_missing_exception", "["+repo+":"+snap+"] is missing")
}

func errInvalidSnapshotName(repo, snap, why string) *apiError {
	return newErr(http.StatusBadRequest, "invalid_snapshot_name_exception",
		"["+repo+":"+snap+"] Invalid snapshot name ["+snap+"], "+why)
}

func errRestore(repo, snap, uuid, msg string) *apiError {
	return newErr(http.StatusInternalServerError, "snapshot_restore_exception",
		"["+repo+":"+snap+"/"+uuid+"] "+msg)
}

// errRepoCreate wraps a repository_exception the way PUT _snapshot/<repo> reports it.
func errRepoCreate(repo, msg string) *apiError {
	e := newErr(http.StatusInternalServerError, "repository_exception", "["+repo+"] failed to create repository")
	e.cause = newErr(http.StatusInternalServerError, "repository_exception", "["+repo+"] "+msg)
	return e
}

func errBadRequest(reason string) *apiError {
	return newErr(http.StatusBadRequest, "illegal_argument_exception", reason)
}

func errParse(reason string) *apiError {
	return newErr(http.StatusBadRequest, "parse_exception", reason)
}

func errNoHandler(uri, method string) *apiError {
	return &apiError{status: http.StatusBadRequest, simple: true,
		reason: "no handler found for uri [" + uri + "] and method [" + method + "]"}
}

func errMethod(uri, method string, allowed []string) *apiError {
	e := &apiError{status: http.StatusMethodNotAllowed, simple: true,
		reason: "Incorrect HTTP method for uri [" + uri + "] and method [" + method + "], allowed: [" + strings.Join(allowed, ", ") + "]"}
	e.header = http.Header{"Allow": {strings.Join(allowed, ",")}}
	return e
}

// invalidFilenameChars is Strings.INVALID_FILENAME_CHARS as ES prints it.
const invalidFilenameChars = `[ , ", *, \, <, |, ,, >, /, ?]`

// validateSnapshotName applies SnapshotsService.validate.
func validateSnapshotName(repo, name string) *apiError {
	switch {
	case name == "":
		return errInvalidSnapshotName(repo, name, "cannot be empty")
	case strings.Contains(name, " "):
		return errInvalidSnapshotName(repo, name, "must not contain whitespace")
	case strings.Contains(name, ","):
		return errInvalidSnapshotName(repo, name, "must not contain ','")
	case strings.Contains(name, "#"):
		return errInvalidSnapshotName(repo, name, "must not contain '#'")
	case name[0] == '_':
		return errInvalidSnapshotName(repo, name, "must not start with '_'")
	case strings.ToLower(name) != name:
		return errInvalidSnapshotName(repo, name, "must be lowercase")
	case strings.ContainsAny(name, `\/*?"<>|`):
		return errInvalidSnapshotName(repo, name, "must not contain the following characters "+invalidFilenameChars)
	}
	return nil
}

// validateIndexName applies MetadataCreateIndexService.validateIndexOrAliasName.
func validateIndexName(name string) *apiError {
	bad := func(why string) *apiError {
		return newErr(http.StatusBadRequest, "invalid_index_name_exception", "Invalid index name ["+name+"], "+why,
			kv{"index_uuid", "_na_"}, kv{"index", name})
	}
	switch {
	case name == "":
		return bad("must not be empty")
	case strings.ContainsAny(name, `\/*?"<>| ,`):
		return bad("must not contain the following characters " + invalidFilenameChars)
	case strings.Contains(name, "#"):
		return bad("must not contain '#'")
	case strings.Contains(name, ":"):
		return bad("must not contain ':'")
	case name[0] == '_' || name[0] == '-' || name[0] == '+':
		return bad("must not start with '_', '-', or '+'")
	case strings.ToLower(name) != name:
		return bad("must be lowercase")
	case name == "." || name == "..":
		return bad("must not be '.' or '..'")
	case len(name) > 255:
		return bad("index name is too long, (" + fmt.Sprint(len(name)) + " > 255)")
	}
	return nil
}
