//go:build !linux

package repo

import (
	"context"
	"errors"
)

// Space is not measured outside Linux: the preflight check says so.
func (s *localStore) Space(ctx context.Context) (Space, error) {
	return Space{}, errors.New("free space of a local repository is only measured on Linux")
}
