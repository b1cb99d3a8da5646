package repo

import (
	"context"
	"io"
	"strings"
	"testing"
	"time"
)

func TestVerifyEclecticIQDump(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, dump, want string
	}{
		{"whole", "CREATE ROLE x;\n--\n-- PostgreSQL database cluster dump complete\n--\n\n", ""},
		{"cut short", "CREATE ROLE x;\nCOPY blob (id) FROM stdin;\n1\n", "completion trailer"},
	} {
		t.Run(c.name, func(t *testing.T) {
			s, _ := localStoreT(t)
			id := NewID(time.Now())
			f, err := WriteFile(ctx, s, id+"/"+PostgresDumpFile, func(w io.Writer) error { _, err := io.WriteString(w, c.dump); return err })
			if err != nil {
				t.Fatal(err)
			}
			m := &Manifest{ID: id, Platform: "eclecticiq", Cluster: "eiq", PostgreSQL: &PGBackup{Dump: *f}}
			if err := WriteManifest(ctx, s, m); err != nil {
				t.Fatal(err)
			}
			probs, err := Verify(ctx, s, id, nil)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case c.want == "" && len(probs) > 0, c.want != "" && (len(probs) != 1 || !strings.Contains(probs[0].What, c.want)):
				t.Fatalf("problems %v, want %q", probs, c.want)
			}
			if got := strings.Join(m.Components(), ","); got != "postgresql" || m.Size() != int64(len(c.dump)) {
				t.Fatalf("components %s size %d", got, m.Size())
			}
		})
	}
}
