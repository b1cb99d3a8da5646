// Package thehive is the practice lab's TheHive 5 service stand-in and the
// systemd look-alikes the product drives it with.
//
// There is no systemd inside the lab's network namespaces, so three
// busybox-style entry points stand in for the pieces a TheHive node has:
//
//   - Main ("thehive-standin") is the service itself: it serves GET
//     /api/status on --listen, and checks every --check-interval that the
//     Cassandra keyspace exists (through the real gocql v2 driver, reading
//     system_schema.keyspaces) and that the Elasticsearch index exists (HEAD
//     /<index>). /api/status answers 200 with TheHive 5's status document only
//     while both exist, and 503 otherwise. It writes TheHive's application.log
//     lines to --log (logback pattern "%date [%level] from %logger in %thread
//     [%X{request}] %message") and the console pattern ("[info] o.t.s.u.Retry
//     [|] ...") to stdout, which the service manager puts in the journal.
//   - SystemctlMain ("systemctl") starts, stops, restarts and reports units
//     described by a JSON unit file (WriteUnit) in the service directory
//     ($HOTSNAP_LAB_SERVICE_DIR, default /run/hotsnap-lab-services). start
//     launches a detached supervisor (a re-exec of the current binary as
//     "systemctl", in its own session) that plays systemd's part: it runs the
//     unit's ExecStart, records the main PID, the state and its "since" time,
//     turns the service's stdout/stderr into journal entries, and records the
//     exit status and result when the process ends. stop sends SIGTERM to the
//     service's process group, waits up to TimeoutStopSec, then SIGKILLs it.
//     The PIDs it records are those of the PID namespace it runs in (a lab
//     node's own, where `systemctl show -p MainPID` and ps agree); ReadStatus
//     reads them from outside through that namespace's /proc.
//     It also answers list-units (--all, --plain, --no-legend, --type,
//     --state; systemd 252's table, legend and footer), expands globs
//     against the loaded units for every verb (is-active 'x@*' prints a
//     word per loaded instance, 4 when nothing matches), instantiates
//     template units ("x@.service.json" gives "x@inst", %i substituted) and
//     refuses template names with systemd's messages, and knows Type=oneshot
//     with RemainAfterExit ("active exited"), Wants= and PartOf=
//     propagation, After= ordering of stops, EnvironmentFile= (and ${NAME}
//     in ExecStart=), KillSignal= and KillMode=mixed (the EclecticIQ lab's
//     units need them). The units of one command line, and the parts a
//     stop or start reaches, are handled at once, as systemd's jobs are.
//     A fault switch: while IgnoreSIGTERMFault exists on a node, its TheHive
//     stand-in ignores SIGTERM, so stop waits out TimeoutStopSec.
//   - JournalctlMain ("journalctl") prints a unit's journal in the short
//     format, with -n, --since, --until and -f.
//
// Outputs follow the samples in reference/real-outputs/cassandra: systemctl
// is-active words and exit codes (0 active, 3 otherwise, 4 unknown unit),
// status in the systemd 249 layout (● / ○ / × glyph, 12-column labels, exit
// 0/3/4), the journalctl "-- Logs begin at ... --" header of the systemd 219
// sample, and TheHive's startup errors (AllNodesFailedException when no
// contact point answers, Retry warnings "An error occurs (...), retrying (N)").
// Lines without a captured sample (the missing-keyspace and missing-index
// exception texts, "Database and index are ready") are worded after the
// driver's and Elasticsearch's own messages.
//
// Only the service directory's owner (root in the lab) may start or stop
// units; anyone else gets systemd's "Access denied" (exit 4). Tests need no
// root: they point HOTSNAP_LAB_SERVICE_DIR at a directory they own.
package thehive
