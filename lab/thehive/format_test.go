package thehive

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

func TestAbbreviateLogger(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"org.thp.scalligraph.utils.Retry", "o.t.s.u.Retry"},    // thehive4 docker sample
		{"org.janusgraph.diskstorage.Backend", "o.j.d.Backend"}, // same sample
		{"com.datastax.driver.core.Cluster", "c.d.d.c.Cluster"}, // same sample
		{"com.datastax.driver.core.ClockFactory", "c.d.d.c.ClockFactory"},
		{"play.core.server.AkkaHttpServer", "p.c.s.AkkaHttpServer"},
		{"short.Name", "short.Name"},
	} {
		if got := abbreviateLogger(tc.in, 15); got != tc.want {
			t.Errorf("abbreviateLogger(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestAppLogMatchesSamplePatterns(t *testing.T) {
	var file, console bytes.Buffer
	l := &appLog{file: &file, console: &console, now: func() time.Time { return time.Date(2024, 5, 1, 10, 2, 3, 45e6, time.UTC) }}
	l.log(levelInfo, "play.core.server.AkkaHttpServer", "main", "Listening for HTTP on /0:0:0:0:0:0:0:0:9000")
	l.log(levelWarn, "org.thp.scalligraph.utils.Retry", "main", "An error occurs (x), retrying (3)")
	// The application.log sample line, with logback's %date prefix.
	want := "2024-05-01 10:02:03,045 [INFO] from play.core.server.AkkaHttpServer in main [|] Listening for HTTP on /0:0:0:0:0:0:0:0:9000\n"
	if !strings.HasPrefix(file.String(), want) {
		t.Errorf("file line = %q, want %q", strings.SplitN(file.String(), "\n", 2)[0], want)
	}
	if !strings.Contains(sample(t, "thehive5-application-log-lines-upgrade-strangebee-docs.txt"), strings.TrimPrefix(strings.TrimSuffix(want, "\n"), "2024-05-01 10:02:03,045 ")) {
		t.Error("file line (without the date) is not the sample line")
	}
	// The console line of the thehive4 docker sample, without the compose prefix.
	if got, wantC := strings.Split(console.String(), "\n")[1], "[warn] o.t.s.u.Retry [|] An error occurs (x), retrying (3)"; got != wantC {
		t.Errorf("console line = %q, want %q", got, wantC)
	}
	if !strings.Contains(sample(t, "thehive4-docker-startup-retry-index-error.txt"), "[warn] o.t.s.u.Retry [|] An error occurs (") {
		t.Error("sample no longer shows the Retry console line")
	}
}

func TestRelativeAgo(t *testing.T) {
	for _, tc := range []struct {
		d    time.Duration
		want string
	}{
		{2*time.Minute + 49*time.Second, "2min 49s ago"}, // scylla-jmx sample
		{26 * time.Second, "26s ago"},                    // cassandra 249 sample
		{9*time.Minute + 10*time.Second, "9min ago"},     // thehive 219 sample
		{26*time.Hour + 5*time.Minute, "1 day 2h ago"},   // cassandra sysv sample
		{90 * time.Minute, "1h 30min ago"},
		{3 * 24 * time.Hour, "3 days ago"},
		{0, "now"},
	} {
		if got := relativeAgo(tc.d); got != tc.want {
			t.Errorf("relativeAgo(%s) = %q, want %q", tc.d, got, tc.want)
		}
	}
}

func TestStatusJSONMatchesSample(t *testing.T) {
	want := strings.TrimSpace(strings.ReplaceAll(sample(t, "thehive-api-status-5.1.4-strangebee-docs.json.txt"), "5.1.4-1", Version))
	if got := string(StatusJSON()); got != want {
		t.Errorf("StatusJSON() =\n%s\nwant\n%s", got, want)
	}
	var v map[string]any
	if err := json.Unmarshal(StatusJSON(), &v); err != nil {
		t.Fatalf("status JSON does not parse: %v", err)
	}
	if !strings.HasPrefix(Version, "5.") {
		t.Errorf("Version %q is not a TheHive 5.x", Version)
	}
}

func TestFormatStatusFailedMatchesSystemd249Sample(t *testing.T) {
	since := time.Date(2024, 2, 16, 17, 47, 22, 0, time.UTC)
	u := Unit{Name: "cassandra", Description: "Apache Cassandra", FragmentPath: "/etc/systemd/system/cassandra.service",
		Enabled: true, ExecStart: []string{"/usr/local/cassandra/current/bin/cassandra", "-f"}}
	st := UnitStatus{Active: stateFailed, Sub: "failed", Result: "exit-code", Since: since, ExecMainPID: 1033, ExecMainCode: "exited", ExecMainStatus: 203}
	host := "ip-172-31-36-241"
	j := []JournalEntry{
		{Time: since, Host: host, Ident: "systemd", PID: 1033, Msg: "cassandra.service: Failed at step EXEC spawning /usr/local/cassandra/current/bin/cassandra: No such file or directory"},
		{Time: since, Host: host, Ident: "systemd", PID: 1, Msg: "Started Apache Cassandra."},
		{Time: since, Host: host, Ident: "systemd", PID: 1, Msg: "cassandra.service: Main process exited, code=exited, status=203/EXEC"},
		{Time: since, Host: host, Ident: "systemd", PID: 1, Msg: "cassandra.service: Failed with result 'exit-code'."},
	}
	got := FormatStatus(u, st, j, since.Add(26*time.Second))
	var want []string
	for _, l := range strings.Split(sample(t, "systemctl-status-cassandra-failed-exitcode-203.txt"), "\n") {
		if !strings.Contains(l, "CPU:") { // the stand-in keeps no CPU accounting
			want = append(want, l)
		}
	}
	if got != strings.Join(want, "\n") {
		t.Errorf("FormatStatus =\n%s\nwant\n%s", got, strings.Join(want, "\n"))
	}
}

func TestFormatStatusTheHiveFailedSample(t *testing.T) {
	// The 219 sample uses a narrower label column; compare trimmed lines.
	loc := time.FixedZone("+04", 4*3600)
	since := time.Date(2021, 6, 30, 12, 8, 22, 0, loc)
	u := TheHiveUnit([]string{"/opt/thehive/bin/thehive", "-Dconfig.file=/etc/thehive/application.conf", "-Dlogger.file=/etc/thehive/logback.xml", "-Dpidfile.path=/dev/null"})
	st := UnitStatus{Active: stateFailed, Result: "exit-code", Since: since, ExecMainPID: 25524, ExecMainCode: "exited", ExecMainStatus: 255}
	got := strings.Split(strings.TrimSpace(FormatStatus(u, st, nil, since.Add(9*time.Minute))), "\n")
	want := strings.Split(strings.TrimSpace(sample(t, "systemctl-status-thehive-failed-status255-centos.txt")), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d lines, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		g, w := strings.TrimSpace(got[i]), strings.TrimSpace(want[i])
		if i == 0 {
			g = strings.TrimPrefix(g, "×") // systemd 249 glyph for failed; 219 printed ●
			w = strings.TrimPrefix(w, "●")
		}
		if i == 1 { // vendor preset differs between distributions
			g, w = g[:strings.Index(g, "vendor")], w[:strings.Index(w, "vendor")]
		}
		if g != w {
			t.Errorf("line %d = %q, want %q", i, g, w)
		}
	}
}

func TestParseJournalTime(t *testing.T) {
	now := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		in   string
		want time.Time
	}{
		{"2024-04-30 23:59:58", time.Date(2024, 4, 30, 23, 59, 58, 0, time.UTC)},
		{"2024-04-30 23:59", time.Date(2024, 4, 30, 23, 59, 0, 0, time.UTC)},
		{"2024-04-30", time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)},
		{"10:30", time.Date(2024, 5, 1, 10, 30, 0, 0, time.UTC)},
		{"-5min", now.Add(-5 * time.Minute)},
		{"-1h", now.Add(-time.Hour)},
		{"2h 30min ago", now.Add(-150 * time.Minute)},
		{"today", time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)},
		{"yesterday", time.Date(2024, 4, 30, 0, 0, 0, 0, time.UTC)},
		{"now", now},
		{"@1714564800", time.Unix(1714564800, 0)},
	} {
		got, err := ParseJournalTime(tc.in, now)
		if err != nil || !got.Equal(tc.want) {
			t.Errorf("ParseJournalTime(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, bad := range []string{"", "soon", "-5 fortnights", "2024-13-01"} {
		if _, err := ParseJournalTime(bad, now); err == nil {
			t.Errorf("ParseJournalTime(%q) succeeded, want an error", bad)
		}
	}
}

func TestJournalctlFormatAndFilters(t *testing.T) {
	dir := t.TempDir()
	p := paths{dir, "thehive"}
	base := time.Date(2017, 11, 3, 21, 42, 49, 0, time.UTC)
	var es []JournalEntry
	for i := range 5 {
		es = append(es, JournalEntry{Time: base.Add(time.Duration(i) * time.Minute), Host: "node1", Ident: "thehive", PID: 42, Msg: "line " + string(rune('a'+i))})
	}
	if err := appendJournal(p, es...); err != nil {
		t.Fatal(err)
	}
	now := func() time.Time { return base.Add(10 * time.Minute) }
	var out, errb bytes.Buffer
	if code := journalctl(context.Background(), dir, now, []string{"-u", "thehive.service", "-n", "2", "--no-pager"}, &out, &errb); code != 0 {
		t.Fatalf("exit %d: %s", code, errb.String())
	}
	want := "-- Logs begin at Fri 2017-11-03 21:42:49 UTC, end at Fri 2017-11-03 21:46:49 UTC. --\n" +
		"Nov 03 21:45:49 node1 thehive[42]: line d\n" +
		"Nov 03 21:46:49 node1 thehive[42]: line e\n"
	if out.String() != want {
		t.Errorf("journalctl -n 2 =\n%s\nwant\n%s", out.String(), want)
	}
	// Same header shape as the systemd 219 sample.
	hdr := strings.SplitN(sample(t, "journalctl-u-service-header-and-lines-systemd219.txt"), "\n", 2)[0]
	if !strings.HasPrefix(hdr, "-- Logs begin at Fri 2017-11-03 21:42:49 UTC, end at ") {
		t.Errorf("sample header %q", hdr)
	}

	out.Reset()
	journalctl(context.Background(), dir, now, []string{"-u", "thehive", "--since", "2017-11-03 21:44:00"}, &out, &errb)
	if n := strings.Count(out.String(), "thehive[42]"); n != 3 {
		t.Errorf("--since kept %d lines, want 3:\n%s", n, out.String())
	}
	out.Reset()
	journalctl(context.Background(), dir, now, []string{"-u", "thehive", "--since", "-1min"}, &out, &errb)
	if !strings.HasSuffix(out.String(), "-- No entries --\n") {
		t.Errorf("--since -1min = %q, want -- No entries --", out.String())
	}
	out.Reset()
	errb.Reset()
	if code := journalctl(context.Background(), dir, now, []string{"--since", "whenever"}, &out, &errb); code != 1 || errb.String() != "Failed to parse timestamp: whenever\n" {
		t.Errorf("bad --since: exit %d, stderr %q", code, errb.String())
	}

	// -f prints the tail, then new lines, until cancelled.
	ctx, cancel := context.WithCancel(context.Background())
	pr := &syncBuffer{}
	done := make(chan int)
	go func() {
		done <- journalctl(ctx, dir, now, []string{"-u", "thehive", "-f", "-n", "1"}, pr, &bytes.Buffer{})
	}()
	time.Sleep(200 * time.Millisecond)
	appendJournal(p, JournalEntry{Time: base.Add(6 * time.Minute), Host: "node1", Ident: "thehive", PID: 42, Msg: "followed"})
	deadline := time.Now().Add(3 * time.Second)
	for !strings.Contains(pr.String(), "followed") && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done
	if got := pr.String(); !strings.Contains(got, "line e") || strings.Contains(got, "line d") || !strings.Contains(got, "thehive[42]: followed") {
		t.Errorf("journalctl -f -n 1 output:\n%s", got)
	}
}
