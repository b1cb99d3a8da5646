package elastic

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hotsnap/hotsnap/lab/internal/listflag"
)

const usage = `usage:
  es-standin --state DIR --listen ADDR[,ADDR] --node NAME [--path-repo DIR[,DIR]]
             [--flavour elasticsearch|elasticsearch6|opensearch] [--auth user:pass] [--cluster-name NAME]
             [--snapshot-rate 200MB] [--recovery-rate 200MB]
  es-standin seed  --state DIR --index NAME --docs N --bytes SIZE
  es-standin fault --state DIR [--health green|yellow|red|auto]
             [--fail-next-snapshot FAILED|PARTIAL [--reason TEXT]] [--serial-snapshots true|false]
             [--recovery-rate SIZE|auto] [--snapshot-rate SIZE|auto]
`

// AuthEnv is the environment variable that may hold the stand-in's
// user:pass in place of --auth, so that the password is not in the node's
// process list (the lab passes it so; a real Elasticsearch keeps its users
// in its security index, not in argv).
const AuthEnv = "ES_STANDIN_AUTH"

// Main runs the es-standin command with args (without the program name) and
// returns its exit code: 0 ok, 1 runtime failure, 2 usage error.
func Main(args []string) int {
	return run(args, os.Stderr, nil)
}

// run is Main with its output and an optional stop channel, for tests.
func run(args []string, stderr io.Writer, stop <-chan struct{}) int {
	if len(args) > 0 {
		switch args[0] {
		case "seed":
			return runSeed(args[1:], stderr)
		case "fault":
			return runFault(args[1:], stderr)
		case "serve":
			args = args[1:]
		case "-h", "--help", "help":
			fmt.Fprint(stderr, usage)
			return 0
		}
	}
	fs := flag.NewFlagSet("es-standin", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stateDir := fs.String("state", "", "shared cluster state directory")
	listen := fs.String("listen", "", "comma-separated listen addresses")
	node := fs.String("node", "", "node name")
	pathRepo := fs.String("path-repo", "", "comma-separated path.repo roots")
	flavour := fs.String("flavour", "elasticsearch", "elasticsearch, elasticsearch6 or opensearch")
	auth := fs.String("auth", "", "user:pass for basic authentication")
	clusterName := fs.String("cluster-name", "", "cluster name")
	snapRate := fs.String("snapshot-rate", "200MB", "snapshot speed per second")
	recRate := fs.String("recovery-rate", "200MB", "restore speed per second")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(stderr, "es-standin: %v\n%s", err, usage)
		return 2
	}
	if v := os.Getenv(AuthEnv); v != "" && *auth == "" {
		*auth = v
	}
	if *stateDir == "" || *listen == "" || *node == "" {
		fmt.Fprintf(stderr, "es-standin: --state, --listen and --node are required\n%s", usage)
		return 2
	}
	sr, err := parseSize(*snapRate)
	if err != nil || sr <= 0 {
		fmt.Fprintf(stderr, "es-standin: bad --snapshot-rate %q\n", *snapRate)
		return 2
	}
	rr, err := parseSize(*recRate)
	if err != nil || rr <= 0 {
		fmt.Fprintf(stderr, "es-standin: bad --recovery-rate %q\n", *recRate)
		return 2
	}
	opts := Options{ClusterName: *clusterName, Flavour: Flavour(*flavour), PathRepo: listflag.Split(*pathRepo), Auth: *auth,
		SnapshotRate: sr, RecoveryRate: rr, NodeTTL: 5 * time.Second}
	c, err := NewCluster(*stateDir, opts)
	if err != nil {
		fmt.Fprintf(stderr, "es-standin: %v\n", err)
		return 2
	}
	if err := c.RegisterNode(*node); err != nil {
		fmt.Fprintf(stderr, "es-standin: %v\n", err)
		return 1
	}
	h := NewHandler(c, *node)
	var servers []*http.Server
	errc := make(chan error, 4)
	for _, addr := range listflag.Split(*listen) {
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			fmt.Fprintf(stderr, "es-standin: listen %s: %v\n", addr, err)
			for _, s := range servers {
				s.Close()
			}
			return 1
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, srv)
		fmt.Fprintf(stderr, "es-standin: node %s listening on %s\n", *node, ln.Addr())
		go func() {
			if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("serve %s: %w", ln.Addr(), err)
			}
		}()
	}
	sigc := make(chan os.Signal, 1)
	signal.Notify(sigc, syscall.SIGINT, syscall.SIGTERM)
	defer signal.Stop(sigc)
	ticker := time.NewTicker(250 * time.Millisecond)
	defer ticker.Stop()
	code := 0
loop:
	for {
		select {
		case <-ticker.C:
			if err := c.Tick(*node); err != nil {
				fmt.Fprintf(stderr, "es-standin: tick: %v\n", err)
			}
		case err := <-errc:
			fmt.Fprintf(stderr, "es-standin: %v\n", err)
			code = 1
			break loop
		case <-sigc:
			break loop
		case <-stop:
			break loop
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var wg sync.WaitGroup
	for _, s := range servers {
		wg.Add(1)
		go func() { defer wg.Done(); s.Shutdown(ctx) }() //nolint:errcheck // best effort on exit
	}
	wg.Wait()
	return code
}

func runSeed(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("es-standin seed", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stateDir := fs.String("state", "", "")
	idx := fs.String("index", "", "")
	docs := fs.Int64("docs", 0, "")
	size := fs.String("bytes", "0", "")
	if err := fs.Parse(args); err != nil || *stateDir == "" || *idx == "" {
		fmt.Fprintf(stderr, "es-standin seed: --state and --index are required\n%s", usage)
		return 2
	}
	n, err := parseSize(*size)
	if err != nil {
		fmt.Fprintf(stderr, "es-standin seed: bad --bytes %q: %v\n", *size, err)
		return 2
	}
	c, err := NewCluster(*stateDir, Options{})
	if err != nil {
		fmt.Fprintf(stderr, "es-standin seed: %v\n", err)
		return 1
	}
	if err := c.Seed(*idx, *docs, n); err != nil {
		fmt.Fprintf(stderr, "es-standin seed: %v\n", err)
		return 1
	}
	return 0
}

func runFault(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("es-standin fault", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	stateDir := fs.String("state", "", "")
	healthFlag := fs.String("health", "", "")
	failNext := fs.String("fail-next-snapshot", "", "")
	reason := fs.String("reason", "", "")
	serial := fs.String("serial-snapshots", "", "")
	recovery := fs.String("recovery-rate", "", "")
	snapshot := fs.String("snapshot-rate", "", "")
	if err := fs.Parse(args); err != nil || *stateDir == "" {
		fmt.Fprintf(stderr, "es-standin fault: --state is required\n%s", usage)
		return 2
	}
	c, err := NewCluster(*stateDir, Options{})
	if err != nil {
		fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
		return 1
	}
	if *healthFlag != "" {
		h := *healthFlag
		if h == "auto" {
			h = ""
		}
		if err := c.SetHealth(h); err != nil {
			fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
			return 2
		}
	}
	if *failNext != "" {
		if err := c.FailNextSnapshot(strings.ToUpper(*failNext), *reason); err != nil {
			fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
			return 2
		}
	}
	if *serial != "" {
		on, err := strconv.ParseBool(*serial)
		if err != nil {
			fmt.Fprintf(stderr, "es-standin fault: bad --serial-snapshots %q\n", *serial)
			return 2
		}
		if err := c.SetSerialSnapshots(on); err != nil {
			fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
			return 1
		}
	}
	if *recovery != "" {
		var rate int64
		if *recovery != "auto" {
			if rate, err = parseSize(*recovery); err != nil || rate <= 0 {
				fmt.Fprintf(stderr, "es-standin fault: bad --recovery-rate %q (a size per second such as 100KB, or auto)\n", *recovery)
				return 2
			}
		}
		if err := c.SetRecoveryRate(rate); err != nil {
			fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
			return 1
		}
	}
	if *snapshot != "" {
		var rate int64
		if *snapshot != "auto" {
			if rate, err = parseSize(*snapshot); err != nil || rate <= 0 {
				fmt.Fprintf(stderr, "es-standin fault: bad --snapshot-rate %q (a size per second such as 100KB, or auto)\n", *snapshot)
				return 2
			}
		}
		if err := c.SetSnapshotRate(rate); err != nil {
			fmt.Fprintf(stderr, "es-standin fault: %v\n", err)
			return 1
		}
	}
	return 0
}

// parseSize parses 1024, 10kb, 200MB, 1.5GiB (binary multiples).
func parseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range []struct {
		suf string
		m   int64
	}{{"tib", 1 << 40}, {"gib", 1 << 30}, {"mib", 1 << 20}, {"kib", 1 << 10}, {"tb", 1 << 40}, {"gb", 1 << 30}, {"mb", 1 << 20}, {"kb", 1 << 10}, {"t", 1 << 40}, {"g", 1 << 30}, {"m", 1 << 20}, {"k", 1 << 10}, {"b", 1}} {
		if n, ok := strings.CutSuffix(t, u.suf); ok {
			t, mult = n, u.m
			break
		}
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
	if err != nil || f < 0 {
		return 0, fmt.Errorf("parse size %q: not a non-negative number with an optional unit", s)
	}
	return int64(f * float64(mult)), nil
}
