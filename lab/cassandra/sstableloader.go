package cassandra

import (
	"archive/tar"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// ControlPortEnv overrides the control (JMX) port the CLI tools use to reach
// nodes when they cannot be told on the command line (sstableloader streams
// through it). Default 7199.
const ControlPortEnv = "CASSANDRA_STANDIN_JMX_PORT"

func envControlPort() string {
	if p := os.Getenv(ControlPortEnv); p != "" {
		return p
	}
	return strconv.Itoa(defaultControlPort)
}

var tableDirRE = regexp.MustCompile(`^(.+)-[0-9a-f]{32}$`)

// prettyMemory mimics FBUtilities.prettyPrintMemory ("4.387MiB").
func prettyMemory(b float64) string {
	switch {
	case b >= 1<<30:
		return fmt.Sprintf("%.3fGiB", b/(1<<30))
	case b >= 1<<20:
		return fmt.Sprintf("%.3fMiB", b/(1<<20))
	case b >= 1<<10:
		return fmt.Sprintf("%.3fKiB", b/(1<<10))
	default:
		return fmt.Sprintf("%dB", int64(b))
	}
}

// SSTableLoaderMain is the stand-in `sstableloader`:
// sstableloader -d host[,host] [-u U -pw P] [-p nativeport] [--no-progress] DIR
// where DIR ends in <keyspace>/<table>[-<id>]. It discovers the ring over CQL
// (like the real tool, so authentication is enforced) and streams every
// SSTable to each replica's control port.
func SSTableLoaderMain(args []string, stdout, stderr io.Writer) int {
	var hosts []string
	var user, pass, dir string
	port := defaultCQLPort
	noProgress := false
	for i := 0; i < len(args); i++ {
		a := args[i]
		val := func() (string, bool) {
			if i+1 >= len(args) {
				return "", false
			}
			i++
			return args[i], true
		}
		switch a {
		case "-d", "--nodes":
			v, ok := val()
			if !ok {
				fmt.Fprintln(stderr, "Missing argument for option: d")
				return 1
			}
			for _, h := range strings.Split(v, ",") {
				if h = strings.TrimSpace(h); h != "" {
					hosts = append(hosts, h)
				}
			}
		case "-u", "--username":
			user, _ = val()
		case "-pw", "--password":
			pass, _ = val()
		case "-p", "--port":
			v, _ := val()
			p, err := strconv.Atoi(v)
			if err != nil {
				fmt.Fprintf(stderr, "Invalid port: %s\n", v)
				return 1
			}
			port = p
		case "--no-progress":
			noProgress = true
		case "-v", "--verbose":
		case "-f", "--conf-path", "-sp", "--storage-port", "-ssp", "--ssl-storage-port", "-t", "--throttle", "-cph", "--connections-per-host":
			val()
		default:
			if strings.HasPrefix(a, "-") {
				fmt.Fprintf(stderr, "Unrecognized option: %s\n", a)
				return 1
			}
			if dir != "" {
				fmt.Fprintln(stderr, "Too many arguments")
				return 1
			}
			dir = a
		}
	}
	if dir == "" {
		fmt.Fprintln(stderr, "Missing sstable directory argument")
		return 1
	}
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		fmt.Fprintf(stderr, "Unknown directory: %s\n", dir)
		return 1
	}
	if len(hosts) == 0 {
		fmt.Fprintln(stderr, "Initial hosts must be specified (-d)")
		return 1
	}
	dir = strings.TrimRight(dir, "/")
	ks := filepath.Base(filepath.Dir(dir))
	table := filepath.Base(dir)
	if m := tableDirRE.FindStringSubmatch(table); m != nil {
		table = m[1]
	}

	// Ring discovery over CQL.
	cc := gocql.NewCluster(hosts...)
	cc.Port = port
	cc.Timeout = 10 * time.Second
	cc.ConnectTimeout = 5 * time.Second
	cc.DisableInitialHostLookup = true
	if user != "" {
		cc.Authenticator = gocql.PasswordAuthenticator{Username: user, Password: pass}
	}
	// system.local and system.peers_v2 must come from one coordinator, or
	// a node can be listed twice and another not at all.
	cc.HostFilter = gocql.WhiteListHostFilter(hosts[0])
	sess, err := cc.CreateSession()
	if err != nil {
		cause := "com.datastax.driver.core.exceptions.NoHostAvailableException: All host(s) tried for query failed (tried: /" + hosts[0] + ":" + strconv.Itoa(port) + " (com.datastax.driver.core.exceptions.TransportException: [/" + hosts[0] + ":" + strconv.Itoa(port) + "] Cannot connect))"
		if strings.Contains(err.Error(), "incorrect") || strings.Contains(err.Error(), "authenticat") {
			cause = "com.datastax.driver.core.exceptions.AuthenticationException: Authentication error on host /" + hosts[0] + ":" + strconv.Itoa(port) + ": Provided username " + user + " and/or password are incorrect"
		}
		fmt.Fprintf(stderr, "Error: Could not retrieve endpoint ranges: \njava.lang.RuntimeException: Could not retrieve endpoint ranges: \n\tat org.apache.cassandra.tools.BulkLoader$ExternalClient.init(BulkLoader.java:283)\n\tat org.apache.cassandra.io.sstable.SSTableLoader.stream(SSTableLoader.java:183)\n\tat org.apache.cassandra.tools.BulkLoader.load(BulkLoader.java:83)\n\tat org.apache.cassandra.tools.BulkLoader.main(BulkLoader.java:51)\nCaused by: %s\n", cause)
		return 1
	}
	defer sess.Close()
	var nodes []string
	var local string
	if err := sess.Query("SELECT rpc_address FROM system.local").Scan(&local); err == nil {
		nodes = append(nodes, local)
	}
	it := sess.Query("SELECT native_address FROM system.peers_v2").Iter()
	var peer string
	for it.Scan(&peer) {
		nodes = append(nodes, peer)
	}
	if err := it.Close(); err != nil || len(nodes) == 0 {
		fmt.Fprintf(stderr, "Error: Could not retrieve endpoint ranges: \njava.lang.RuntimeException: Could not retrieve endpoint ranges: %v\n", err)
		return 1
	}
	var repl map[string]string
	rf := 0
	if err := sess.Query("SELECT replication FROM system_schema.keyspaces WHERE keyspace_name = ?", ks).Scan(&repl); err == nil {
		rf = (&Keyspace{Replication: repl}).ReplicationFactor()
	}
	var tname string
	tableExists := sess.Query("SELECT table_name FROM system_schema.tables WHERE keyspace_name = ? AND table_name = ?", ks, table).Scan(&tname) == nil
	fmt.Fprintln(stdout, "Established connection to initial hosts")
	fmt.Fprintln(stdout, "Opening sstables and calculating sections to stream")
	gens, err := generations(dir)
	if err != nil {
		fmt.Fprintf(stderr, "Error: %v\n", err)
		return 1
	}
	start := time.Now()
	if !tableExists || rf == 0 {
		for _, g := range gens {
			fmt.Fprintf(stdout, "Skipping file nb-%d-big-Data.db: table %s.%s doesn't exist\n", g, ks, table)
		}
		gens = nil
	}
	sort.Slice(nodes, func(i, j int) bool { return ipLess(nodes[i], nodes[j]) })
	var dataFiles []string
	for _, g := range gens {
		dataFiles = append(dataFiles, filepath.Join(dir, fmt.Sprintf("nb-%d-big-Data.db", g)))
	}
	var total int64
	var failed []string
	files := 0
	if len(gens) > 0 {
		rg := newRing(nodes)
		// Split rows per replica unless every node holds everything.
		perNode := map[string]string{} // node -> dir holding its sstables
		if rf >= len(nodes) {
			for _, n := range nodes {
				perNode[n] = dir
			}
		} else {
			tmp, err := os.MkdirTemp("", "sstableloader-")
			if err != nil {
				fmt.Fprintf(stderr, "Error: %v\n", err)
				return 1
			}
			defer os.RemoveAll(tmp)
			writers := map[string]*SSTableWriter{}
			for _, n := range nodes {
				perNode[n] = filepath.Join(tmp, n)
			}
			for _, df := range dataFiles {
				err := ReadDataFile(df, func(r Row) error {
					for _, rep := range rg.Replicas(RowToken(r.Key), rf) {
						w := writers[rep]
						if w == nil {
							var err error
							if w, err = newSSTableWriterGen(perNode[rep], 1); err != nil {
								return err
							}
							writers[rep] = w
						}
						w.Append(r)
					}
					return nil
				})
				if err != nil {
					fmt.Fprintf(stderr, "Error: %v\n", err)
					return 1
				}
			}
			for _, w := range writers {
				if err := w.Close(); err != nil {
					fmt.Fprintf(stderr, "Error: %v\n", err)
					return 1
				}
			}
		}
		var targets []string
		for _, n := range nodes {
			targets = append(targets, "/"+n+":"+strconv.Itoa(storagePort))
		}
		fmt.Fprintf(stdout, "Streaming relevant part of %s to [%s]\n", strings.Join(dataFiles, " "), strings.Join(targets, ", "))
		cport := envControlPort()
		var progress []string
		for i, n := range nodes {
			ngens, _ := generations(perNode[n])
			sent, err := streamDir(perNode[n], ngens, net.JoinHostPort(n, cport), ks, table)
			total += sent
			st := fmt.Sprintf("[/%s:%d]%d:%d/%d %-3d%%", n, storagePort, i, len(ngens), len(ngens), 100)
			if err != nil {
				fmt.Fprintf(stdout, "ERROR %s [Stream #%s] Streaming error occurred on session with peer %s:%d\njava.io.IOException: failed to connect to /%s:%d for streaming data\n",
					time.Now().Format("15:04:05,000"), deterministicUUID(fmt.Sprintf("stream/%s/%d", n, time.Now().UnixNano())), n, storagePort, n, storagePort)
				failed = append(failed, n)
				st = fmt.Sprintf("[/%s:%d]%d:%d/%d %-3d%%", n, storagePort, i, 0, len(ngens), 0)
			} else {
				files += len(ngens)
			}
			progress = append(progress, st)
			if !noProgress {
				el := time.Since(start).Seconds()
				if el <= 0 {
					el = 1e-3
				}
				fmt.Fprintf(stdout, "\rprogress: %s total: %d%% %s/s (avg: %s/s)", strings.Join(progress, " "), (i+1)*100/len(nodes), prettyMemory(float64(total)/el), prettyMemory(float64(total)/el))
				fmt.Fprintln(stdout)
			}
		}
	}
	dur := time.Since(start)
	el := dur.Seconds()
	if el <= 0 {
		el = 1e-3
	}
	rate := prettyMemory(float64(total)/el) + "/s"
	conns := 1
	fmt.Fprintf(stdout, "\nSummary statistics: \n")
	fmt.Fprintf(stdout, "   %-24s: %-10d\n", "Connections per host", conns)
	fmt.Fprintf(stdout, "   %-24s: %-10d\n", "Total files transferred", files)
	fmt.Fprintf(stdout, "   %-24s: %-10s\n", "Total bytes transferred", prettyMemory(float64(total)))
	fmt.Fprintf(stdout, "   %-24s: %-10s\n", "Total duration", strconv.FormatInt(dur.Milliseconds(), 10)+" ms")
	fmt.Fprintf(stdout, "   %-24s: %-10s\n", "Average transfer rate", rate)
	fmt.Fprintf(stdout, "   %-24s: %-10s\n", "Peak transfer rate", rate)
	fmt.Fprintln(stdout)
	if len(failed) > 0 {
		fmt.Fprintln(stderr, "Streaming to the following hosts failed:")
		var fs []string
		for _, f := range failed {
			fs = append(fs, "/"+f+":"+strconv.Itoa(storagePort))
		}
		fmt.Fprintf(stderr, "[%s]\n", strings.Join(fs, ", "))
		fmt.Fprintln(stderr, "java.util.concurrent.ExecutionException: org.apache.cassandra.streaming.StreamException: Stream failed\n\tat com.google.common.util.concurrent.AbstractFuture.getDoneValue(AbstractFuture.java:552)\n\tat com.google.common.util.concurrent.AbstractFuture.get(AbstractFuture.java:513)\n\tat org.apache.cassandra.tools.BulkLoader.load(BulkLoader.java:100)\n\tat org.apache.cassandra.tools.BulkLoader.main(BulkLoader.java:51)")
		return 1
	}
	return 0
}

// streamDir sends each generation of dir (as a tar of its components) to one node.
func streamDir(dir string, gens []int, hostport, ks, table string) (int64, error) {
	var sent int64
	for _, g := range gens {
		pr, pw := io.Pipe()
		go func() {
			tw := tar.NewWriter(pw)
			var werr error
			for _, c := range sstableComponents {
				p := filepath.Join(dir, fmt.Sprintf("nb-%d-big-%s", g, c))
				f, err := os.Open(p)
				if err != nil {
					continue
				}
				st, err := f.Stat()
				if err == nil {
					err = tw.WriteHeader(&tar.Header{Name: filepath.Base(p), Mode: 0o644, Size: st.Size(), Typeflag: tar.TypeReg})
				}
				if err == nil {
					_, err = io.Copy(tw, f)
				}
				f.Close()
				if err != nil {
					werr = err
					break
				}
			}
			if werr == nil {
				werr = tw.Close()
			}
			pw.CloseWithError(werr)
		}()
		req, err := http.NewRequest("POST", "http://"+hostport+"/v1/stream?keyspace="+ks+"&table="+table, pr)
		if err != nil {
			pr.Close()
			return sent, fmt.Errorf("stream to %s: %w", hostport, err)
		}
		resp, err := toolClient.Do(req)
		if err != nil {
			pr.Close()
			return sent, fmt.Errorf("stream to %s: %w", hostport, err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return sent, fmt.Errorf("stream to %s: %w", hostport, errors.New(strings.TrimSpace(string(body))))
		}
		if st, err := os.Stat(filepath.Join(dir, fmt.Sprintf("nb-%d-big-Data.db", g))); err == nil {
			sent += st.Size()
		}
	}
	return sent, nil
}
