package cassandra

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/rs/zerolog"
)

// UsersEnv is the environment variable that may hold the stand-in's
// comma-separated user:password superusers in place of --users.
const UsersEnv = "CASSANDRA_STANDIN_USERS"

// Main runs the stand-in daemon:
// cassandra-standin --data DIR --listen IP --peers ip,ip --dc datacenter1 --rack rack1 [--auth]
// [--cql-port 9042] [--jmx-port 7199] [--cluster-name NAME] [--users u:p,u:p].
// The users may come instead from the environment variable UsersEnv, so
// that their passwords are not in the node's process list (the lab passes
// them so; a real Cassandra keeps its roles in system_auth, not in argv).
// It serves until SIGINT/SIGTERM and returns the exit status.
func Main(args []string) int { return mainWith(args, os.Stderr) }

func mainWith(args []string, stderr io.Writer) int {
	fs := flag.NewFlagSet("cassandra-standin", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var cfg Config
	var peers, users string
	fs.StringVar(&cfg.DataDir, "data", "/var/lib/cassandra/data", "data directory")
	fs.StringVar(&cfg.ListenAddress, "listen", "127.0.0.1", "listen/rpc address")
	fs.StringVar(&peers, "peers", "", "comma-separated peer IPs")
	fs.StringVar(&cfg.DC, "dc", "datacenter1", "datacenter")
	fs.StringVar(&cfg.Rack, "rack", "rack1", "rack")
	fs.BoolVar(&cfg.Auth, "auth", false, "enable PasswordAuthenticator")
	fs.IntVar(&cfg.CQLPort, "cql-port", defaultCQLPort, "native transport port")
	fs.IntVar(&cfg.ControlPort, "jmx-port", defaultControlPort, "control (JMX) port")
	fs.StringVar(&cfg.ClusterName, "cluster-name", "Test Cluster", "cluster name")
	fs.StringVar(&cfg.ReleaseVersion, "release-version", "4.1.12", "reported Cassandra version")
	fs.StringVar(&users, "users", "cassandra:cassandra", "comma-separated user:password superusers")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if v := os.Getenv(UsersEnv); v != "" {
		users = v
	}
	for _, p := range strings.Split(peers, ",") {
		if p = strings.TrimSpace(p); p != "" && p != cfg.ListenAddress {
			cfg.Peers = append(cfg.Peers, p)
		}
	}
	cfg.Users = map[string]string{}
	for _, up := range strings.Split(users, ",") {
		if u, p, ok := strings.Cut(up, ":"); ok {
			cfg.Users[u] = p
		}
	}
	zerolog.SetGlobalLevel(zerolog.ErrorLevel)
	n, err := NewNode(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "cassandra-standin: %v\n", err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := n.Serve(ctx); err != nil {
		fmt.Fprintf(stderr, "cassandra-standin: %v\n", err)
		return 1
	}
	return 0
}
