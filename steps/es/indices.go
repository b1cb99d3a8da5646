package es

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/elastic/go-elasticsearch/v8/esapi"

	"github.com/hotsnap/hotsnap/remote"
	"github.com/hotsnap/hotsnap/steps/parse"
)

// Indices returns the open and closed indices that match patterns
// (index names with * wildcards, never _all), with their document counts;
// hidden and system indices (".…") are left out. None matching is no
// error.
func Indices(ctx context.Context, cl *remote.ESClient, patterns []string) ([]parse.CatIndex, error) {
	for _, x := range patterns {
		if x == "" || strings.ContainsAny(x, "/?#%&, ") {
			return nil, fmt.Errorf("list the indices: %q is not an index name or pattern", x)
		}
	}
	what := "list the indices " + strings.Join(patterns, ",")
	r, err := call(ctx, cl, what, esapi.CatIndicesRequest{Index: patterns, Format: "json", Bytes: "b", ExpandWildcards: "open,closed",
		H: []string{"health", "status", "index", "uuid", "pri", "rep", "docs.count", "store.size"}}, http.StatusNotFound)
	if err != nil || r.Status == http.StatusNotFound {
		return nil, err
	}
	rows, err := parse.ParseCatIndices(r.Body)
	if err != nil {
		return nil, r.wrap(what, err)
	}
	out := rows[:0]
	for _, x := range rows {
		if !strings.HasPrefix(x.Index, ".") {
			out = append(out, x)
		}
	}
	return out, nil
}
