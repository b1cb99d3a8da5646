package thehive

import "testing"

func TestSchemaReplication(t *testing.T) {
	for schema, want := range map[string]int{
		"CREATE KEYSPACE thehive WITH replication = {'class': 'SimpleStrategy', 'replication_factor': '3'}  AND durable_writes = true;\n\nCREATE TABLE thehive.x (a int PRIMARY KEY);": 3,
		"CREATE KEYSPACE thehive WITH replication = {'class': 'org.apache.cassandra.locator.NetworkTopologyStrategy', 'dc1': '3', 'dc2': '2'}  AND durable_writes = true;":             5,
		"CREATE TABLE thehive.x (a int PRIMARY KEY);": 0,
		"": 0,
	} {
		if got := schemaReplication(schema); got != want {
			t.Errorf("%.60q: got %d want %d", schema, got, want)
		}
	}
}
