package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// TestSessionSecretsCoverEveryKind: the secrets the engine masks in its
// journal and reports include every secret a run can know: the Cassandra
// and Elasticsearch passwords, the attachment store's S3 keys, the S3
// repository's keys and the sudo password from a file.
func TestSessionSecretsCoverEveryKind(t *testing.T) {
	dir := t.TempDir()
	sudo := filepath.Join(dir, "sudo-password")
	if err := os.WriteFile(sudo, []byte("sudo-pw-7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := os.ReadFile("testdata/inventory/thehive-s3.yaml")
	if err != nil {
		t.Fatal(err)
	}
	inv := strings.Replace(string(src), "file:/etc/hotsnap/sudo-password", "file:"+sudo, 1)
	path := filepath.Join(dir, "inv.yaml")
	if err := os.WriteFile(path, []byte(inv), 0o600); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"CASSANDRA_PASSWORD": "Cass-pw-1", "ES_PASSWORD": "Es-pw-2",
		"MINIO_ACCESS_KEY": "AKIAATTACHMENTS3", "MINIO_SECRET_KEY": "s3-secret-4/xyz",
		repoS3Env[0]: "AKIAREPOSITORY05", repoS3Env[1]: "repo-secret-6",
	}
	for k, v := range want {
		t.Setenv(k, v)
	}
	s, err := openSession(&globals{inventory: path})
	if err != nil {
		t.Fatal(err)
	}
	defer s.pool.Close()
	got := s.secrets()
	for k, v := range want {
		if !slices.Contains(got, v) {
			t.Errorf("the secret from %s is not masked: %q", k, got)
		}
	}
	if !slices.Contains(got, "sudo-pw-7") {
		t.Errorf("the sudo password from its file is not masked: %q", got)
	}
	if len(got) != len(want)+1 {
		t.Errorf("secrets %q: want exactly %d", got, len(want)+1)
	}
}

// TestSessionMasksTheAlien4CloudPassword: the admin password of an
// Alien4Cloud inventory is resolved by the session and masked.
func TestSessionMasksTheAlien4CloudPassword(t *testing.T) {
	t.Setenv("A4C_ADMIN_PASSWORD", "a4c-pw-8")
	s, err := openSession(&globals{inventory: "testdata/inventory/alien4cloud.yaml"})
	if err != nil {
		t.Fatal(err)
	}
	defer s.pool.Close()
	if s.env.Alien4CloudPassword != "a4c-pw-8" || !slices.Contains(s.secrets(), "a4c-pw-8") {
		t.Errorf("password %q, secrets %q", s.env.Alien4CloudPassword, s.secrets())
	}
}
