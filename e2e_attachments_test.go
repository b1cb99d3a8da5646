package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/hotsnap/hotsnap/lab"
	"github.com/hotsnap/hotsnap/repo"
	"github.com/hotsnap/hotsnap/steps"
)

// TestE2EAttachmentsAsTheyAre: a 1 GiB sparse attachment (its size, no
// blocks) is archived as holes (tar --sparse), not as a gigabyte of zeros,
// and comes back sparse: its size, its owner and its content (hashed in the
// manifest as the 1 GiB it reads as), with no blocks allocated. A FIFO
// among the attachments is archived as a FIFO, and the backup says so: in
// its summary and in the manifest (its special files and a warning).
func TestE2EAttachmentsAsTheyAre(t *testing.T) {
	l := ownLab(t, lab.Options{Name: "hsr42", Subnet: 72, Nodes: 1, Data: 1 << 20})
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	const f = "/opt/thp/thehive/files/sparse-1g"
	// stat: apparent size, allocated 512-byte blocks, owner.
	stat := "stat -c '%s %b %U' " + f
	nodeSh(t, l, "node1", "truncate -s 1G "+f+" && printf data | dd of="+f+" bs=1 seek=536870912 conv=notrunc status=none && chown thehive:thehive "+f)
	nodeSh(t, l, "node1", "mkfifo -m 0640 /opt/thp/thehive/files/a-fifo && chown thehive:thehive /opt/thp/thehive/files/a-fifo")
	before := nodeSh(t, l, "node1", stat)
	if !strings.HasPrefix(before, "1073741824 ") {
		t.Fatalf("the sparse file: %q", before)
	}
	out := hotsnapOK(t, l, "backup", "--yes", "--no-tui")
	const note = "1 special file archived as such, without content: ./a-fifo (fifo)"
	_, summary, _ := strings.Cut(out, "=== ✓ Backup")
	if !strings.Contains(out, "attachments: "+note) || !strings.Contains(summary, note) {
		t.Errorf("the backup's output and summary do not name the FIFO:\n%s", out)
	}
	id := newestBackup(t, l)
	m, err := repo.ReadManifest(t.Context(), mustStore(t, l.BackupsPath()), id)
	if err != nil {
		t.Fatal(err)
	}
	if m.Files == nil {
		t.Fatal("the manifest has no attachments")
	}
	var entry *repo.FileEntry
	for i, e := range m.Files.Entries {
		if e.Name == "./sparse-1g" {
			entry = &m.Files.Entries[i]
		}
	}
	if sp := m.Files.Special; len(sp) != 1 || sp[0].Name != "./a-fifo" || sp[0].Type != repo.TypeFIFO || !slices.Contains(m.Warnings, "attachments: "+note) {
		t.Errorf("the manifest's special files %+v, warnings %q", sp, m.Warnings)
	}
	if entry == nil || entry.Size != 1<<30 {
		t.Fatalf("the manifest's entry of the sparse file: %+v", entry)
	}
	if m.Files.Size > 64<<20 {
		t.Errorf("the attachments' archive takes %d MB for a 1 GiB file of holes: the holes were stored as zeros", m.Files.Size>>20)
	}

	nodeSh(t, l, "node1", "rm "+f+" /opt/thp/thehive/files/a-fifo")
	if out := hotsnapOK(t, l, "restore", id, "--yes", "--confirm", "lab", "--no-tui"); !strings.Contains(out, steps.SuccessLine) {
		t.Fatalf("restore:\n%s", out)
	}
	after := strings.Fields(nodeSh(t, l, "node1", stat))
	if len(after) != 3 || after[0] != "1073741824" || after[2] != "thehive" {
		t.Fatalf("after the restore: %q, before %q", after, before)
	}
	if blocks := after[1]; len(blocks) > 5 { // ≥ 100000 blocks of 512 bytes: ≥ 50 MB allocated
		t.Errorf("the restored file has %s blocks allocated (%q before the backup): its holes were filled", blocks, before)
	}
	if got := nodeSh(t, l, "node1", "stat -c '%F %a %U' /opt/thp/thehive/files/a-fifo"); got != "fifo 640 thehive\n" {
		t.Errorf("the FIFO after the restore: %q", got)
	}
	if got := nodeSh(t, l, "node1", "dd if="+f+" bs=1 skip=536870912 count=4 status=none"); got != "data" {
		t.Errorf("the restored file reads %q at 512 MiB, want \"data\"", got)
	}
}
