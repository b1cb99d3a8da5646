package remote

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"time"

	gocql "github.com/apache/cassandra-gocql-driver/v2"
)

// dialer adapts a DialFunc to the driver's Dialer.
type dialer DialFunc

func (d dialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return d(ctx, network, addr)
}

// CQLOptions says how to reach a Cassandra cluster.
type CQLOptions struct {
	Hosts    []string // addresses as the nodes know them (broadcast/rpc address)
	Port     int      // default 9042
	Username string   // "" when PasswordAuthenticator is off
	Password string
	Keyspace string        // optional
	Timeout  time.Duration // per request; default 15s
	Dial     DialFunc      // nil: directly; else, typically, through a node's SSH connection
	// Pin sends every query to Hosts[0], so that system.local and
	// system.peers answer from one coordinator's point of view.
	Pin bool
}

// NewCQLSession opens a session with the maintained gocql driver, dialling
// through o.Dial so that only SSH needs to reach the nodes.
func NewCQLSession(o CQLOptions) (*gocql.Session, error) {
	if len(o.Hosts) == 0 {
		return nil, fmt.Errorf("cql: no hosts")
	}
	if o.Port == 0 {
		o.Port = 9042
	}
	if o.Timeout == 0 {
		o.Timeout = 15 * time.Second
	}
	c := gocql.NewCluster(o.Hosts...)
	c.Port = o.Port
	c.Keyspace = o.Keyspace
	c.Timeout = o.Timeout
	c.ConnectTimeout = o.Timeout
	c.Consistency = gocql.One
	c.ProtoVersion = 4
	c.NumConns = 1
	if o.Dial != nil {
		c.Dialer = dialer(o.Dial)
	}
	if o.Pin {
		c.HostFilter = gocql.WhiteListHostFilter(o.Hosts[0])
	}
	if o.Username != "" {
		c.Authenticator = gocql.PasswordAuthenticator{Username: o.Username, Password: o.Password}
	}
	s, err := c.CreateSession()
	if err != nil {
		return nil, fmt.Errorf("cql %s:%s: %w", o.Hosts[0], strconv.Itoa(o.Port), err)
	}
	return s, nil
}
