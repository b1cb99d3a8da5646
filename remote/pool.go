package remote

import (
	"context"
	"fmt"
	"net"
	"sort"
	"sync"
)

// Pool holds one connection per node for the length of a run, opened on
// first use, and runs commands on one node or on many in parallel.
type Pool struct {
	opts    Options
	targets map[string]Target
	order   []string

	mu    sync.Mutex
	conns map[string]*conn
	// dials are the Preconnect dials still running; Close waits for them.
	dials sync.WaitGroup
}

type conn struct {
	once   sync.Once
	client *Client
	err    error
}

// NewPool prepares connections to targets; nothing is dialled yet.
func NewPool(targets []Target, o Options) *Pool {
	p := &Pool{opts: o, targets: map[string]Target{}, conns: map[string]*conn{}}
	for _, t := range targets {
		p.targets[t.Name] = t
		p.order = append(p.order, t.Name)
	}
	return p
}

// Nodes returns the node names in inventory order.
func (p *Pool) Nodes() []string { return append([]string(nil), p.order...) }

// Client returns the node's connection, dialling it the first time.
func (p *Pool) Client(ctx context.Context, node string) (*Client, error) {
	t, ok := p.targets[node]
	if !ok {
		return nil, fmt.Errorf("unknown node %q (known: %v)", node, p.order)
	}
	p.mu.Lock()
	c, ok := p.conns[node]
	if !ok {
		c = &conn{}
		p.conns[node] = c
	}
	p.mu.Unlock()
	c.once.Do(func() { c.client, c.err = Dial(ctx, t, p.opts) })
	return c.client, c.err
}

// Run runs cmd on one node.
func (p *Pool) Run(ctx context.Context, node string, cmd Command) (Result, error) {
	c, err := p.Client(ctx, node)
	if err != nil {
		return Result{Node: node, Cmd: cmd.Cmd, ExitCode: -1}, err
	}
	return c.Run(ctx, cmd)
}

// Dialer returns a DialFunc that opens connections from node (through its
// SSH connection, dialled on first use): the tunnel for CQL, ES and S3.
func (p *Pool) Dialer(node string) DialFunc {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := p.Client(ctx, node)
		if err != nil {
			return nil, err
		}
		return c.DialContext(ctx, network, addr)
	}
}

// NodeResult is the outcome of a command on one node of a parallel run.
type NodeResult struct {
	Result
	Err error
}

// RunAll runs the command that mk builds for each node, on all nodes at
// once, and returns one result per node in the order given. A failure on
// one node does not stop the others.
func (p *Pool) RunAll(ctx context.Context, nodes []string, mk func(node string) Command) []NodeResult {
	out := make([]NodeResult, len(nodes))
	var wg sync.WaitGroup
	for i, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := p.Run(ctx, n, mk(n))
			out[i] = NodeResult{Result: r, Err: err}
		}()
	}
	wg.Wait()
	return out
}

// Connect dials the given nodes in parallel and returns the errors by node
// (empty when all connected).
func (p *Pool) Connect(ctx context.Context, nodes []string) map[string]error {
	errs := map[string]error{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, n := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := p.Client(ctx, n); err != nil {
				mu.Lock()
				errs[n] = err
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return errs
}

// Preconnect dials nodes in the background and returns at once, so that
// the first command on each finds its connection open (or its dial's error,
// kept as Client would have met it). Close waits for these dials.
func (p *Pool) Preconnect(ctx context.Context, nodes []string) {
	p.dials.Add(1)
	go func() {
		defer p.dials.Done()
		p.Connect(ctx, nodes)
	}()
}

// Close closes every open connection, after any Preconnect dial ends.
func (p *Pool) Close() {
	p.dials.Wait()
	p.mu.Lock()
	defer p.mu.Unlock()
	names := make([]string, 0, len(p.conns))
	for n := range p.conns {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		if c := p.conns[n]; c.client != nil {
			c.client.Close()
		}
	}
}
