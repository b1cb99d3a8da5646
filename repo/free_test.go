package repo

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func TestLocalSpaceWalksUpToAnExistingDirectory(t *testing.T) {
	dir := t.TempDir()
	s, err := openLocal(filepath.Join(dir, "not", "yet"))
	if err != nil {
		t.Fatal(err)
	}
	sp, err := s.(Spacer).Space(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if sp.At != dir || sp.Free <= 0 {
		t.Fatalf("space %+v, want measured at %s", sp, dir)
	}
}

func TestParseDFSpace(t *testing.T) {
	out := "/srv\nFilesystem        1-blocks        Used   Available Capacity Mounted on\n/dev/sda1      52576092160 12098732032 37774528512      25% /\n"
	sp, err := parseDFSpace(out)
	if err != nil || sp.Free != 37774528512 || sp.At != "/srv" {
		t.Fatalf("%+v %v", sp, err)
	}
	// A long device name wraps onto a line of its own in some df builds.
	wrapped := "/srv\nFilesystem 1-blocks Used Available Capacity Mounted on\n/dev/mapper/vg-a-very-long-logical-volume-name\n 100 40 60 40% /srv\n"
	if sp, err := parseDFSpace(wrapped); err != nil || sp.Free != 60 {
		t.Fatalf("wrapped: %+v %v", sp, err)
	}
	for _, bad := range []string{"", "/srv\n", "/srv\nFilesystem 1-blocks\n", "/srv\nFilesystem x\n/dev/sda1 1 2 lots 4% /\n", "/srv\ndf: /srv: No such file\n\n"} {
		if _, err := parseDFSpace(bad); err == nil || !strings.Contains(err.Error(), "df") {
			t.Errorf("%q: error %v", bad, err)
		}
	}
}
