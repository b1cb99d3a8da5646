package es

import (
	"context"
	"fmt"
	"net/http"
	"strings"

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
	p := "/_cat/indices/" + strings.Join(patterns, ",") + "?format=json&h=health,status,index,uuid,pri,rep,docs.count,store.size&bytes=b&expand_wildcards=open,closed"
	r, err := cl.Do(ctx, http.MethodGet, p, nil)
	if err != nil {
		return nil, err
	}
	if r.Status == http.StatusNotFound {
		return nil, nil
	}
	if r.Status != http.StatusOK {
		return nil, HTTPError("list the indices "+strings.Join(patterns, ","), r)
	}
	rows, err := parse.ParseCatIndices(r.Body)
	if err != nil {
		return nil, fmt.Errorf("list the indices %s: %w", strings.Join(patterns, ","), err)
	}
	out := rows[:0]
	for _, x := range rows {
		if !strings.HasPrefix(x.Index, ".") {
			out = append(out, x)
		}
	}
	return out, nil
}
