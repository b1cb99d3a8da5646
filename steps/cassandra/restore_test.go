package cassandra

import (
	"testing"

	"github.com/hotsnap/hotsnap/repo"
)

func TestSchemaReplication(t *testing.T) {
	for schema, want := range map[string]int{
		"CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;\n\nCREATE TABLE thehive.x (a int PRIMARY KEY);": 3,
		"CREATE KEYSPACE thehive WITH replication = {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'}  AND durable_writes = true;":             5,
		"CREATE TABLE thehive.x (a int PRIMARY KEY);": 0,
		"": 0,
	} {
		if got := SchemaReplication(schema); got != want {
			t.Errorf("%.60q: got %d want %d", schema, got, want)
		}
	}
}

func TestSSTableCountsAndFields(t *testing.T) {
	files := []repo.FileEntry{{Name: "./nb-1-big-Data.db"}, {Name: "./nb-1-big-Index.db"}, {Name: "nb-2-big-Data.db"},
		{Name: "./.idx/nb-3-big-Data.db"}, {Name: "./manifest.json"}}
	if n := sstablesIn(files); n != 2 {
		t.Errorf("sstablesIn = %d, want 2 (top-level Data.db only)", n)
	}
	out := "staged=7\nleft=0\n"
	if countField(out, "staged") != 7 || countField(out, "left") != 0 || countField(out, "other") != -1 || countField("left=x", "left") != -1 {
		t.Errorf("countField misreads %q", out)
	}
}
