package eclecticiq

import "testing"

func TestPostmasterDataDir(t *testing.T) {
	ps := "/usr/sbin/sshd -D -e\n/usr/lib/postgresql/15/bin/postgres -D /var/lib/pgsql/15/data -p 5432 -c x=y\n/usr/lib/postgresql/15/bin/postgres -D/srv/other -p 5433\n"
	if got := postmasterDataDir(ps, 5433); got != "/srv/other" {
		t.Errorf("postmasterDataDir 5433 = %q", got)
	}
	if got := postmasterDataDir(ps, 5432); got != "/var/lib/pgsql/15/data" {
		t.Errorf("postmasterDataDir 5432 = %q", got)
	}
	if got := postmasterDataDir("/usr/sbin/sshd -D\n", 5432); got != "" {
		t.Errorf("sshd -D taken for postgres: %q", got)
	}
}
