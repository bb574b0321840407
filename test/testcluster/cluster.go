package testcluster

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Options shape a cluster.
type Options struct {
	Replicas     int
	ComputeNodes int
	// ReplicaArgs and ComputeArgs are appended to every replica's or compute
	// node's command line.
	ReplicaArgs []string
	ComputeArgs []string
	// PerCompute adds arguments to one compute node (by its position, from
	// 0), such as its labels.
	PerCompute map[int][]string
	// FastFailover tunes Raft and gossip for quick leader and node failure
	// detection on loopback.
	FastFailover bool
	// TLS makes certificates with `shoal tls` and runs every process with
	// them (see TLS).
	TLS bool
}

// Cluster is a set of shoal processes on loopback.
type Cluster struct {
	t        testing.TB
	Replicas []*Process
	Computes []*Process

	// TLS is the cluster's certificates when Options.TLS is set.
	TLS *TLS

	bin  string
	base string
	join []string
	opts Options
}

// Start launches the cluster and waits until it has a leader and every
// compute node has registered. Everything is killed when the test ends;
// logs are printed if it failed.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	bin, err := Binary()
	if err != nil {
		t.Fatal(err)
	}
	base := t.TempDir()
	c := &Cluster{t: t, bin: bin, base: base, opts: opts}
	if opts.TLS {
		if c.TLS, err = MakeTLS(bin, filepath.Join(base, "tls")); err != nil {
			t.Fatal(err)
		}
	}
	ports, err := freePorts(3*opts.Replicas + 2*opts.ComputeNodes)
	if err != nil {
		t.Fatal(err)
	}
	var join []string
	for i := range opts.Replicas {
		join = append(join, addr(ports[3*i+2]))
	}
	c.join = join
	for i := range opts.Replicas {
		p := c.replicaProcess(i, ports[3*i], ports[3*i+1], ports[3*i+2])
		p.Args = append(p.Args, "--bootstrap-expect", strconv.Itoa(opts.Replicas))
		c.Replicas = append(c.Replicas, p)
	}
	off := 3 * opts.Replicas
	for i := range opts.ComputeNodes {
		c.Computes = append(c.Computes, c.computeProcess(i, ports[off+2*i], ports[off+2*i+1]))
	}
	t.Cleanup(c.cleanup)
	for _, p := range append(append([]*Process{}, c.Replicas...), c.Computes...) {
		if err := p.Start(); err != nil {
			t.Fatal(err)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := c.WaitLeader(ctx); err != nil {
		t.Fatalf("no leader: %v", err)
	}
	if err := c.WaitNodes(ctx, len(c.Computes)); err != nil {
		t.Fatalf("compute nodes did not register: %v", err)
	}
	return c
}

func (c *Cluster) replicaProcess(i, apiPort, raftPort, gossipPort int) *Process {
	id := fmt.Sprintf("o%d", i+1)
	p := &Process{
		ID: id, Role: "orchestrator", bin: c.bin,
		APIAddr: addr(apiPort), RaftAddr: addr(raftPort), GossipAddr: addr(gossipPort),
		DataDir: filepath.Join(c.base, id), LogPath: filepath.Join(c.base, id+".log"),
	}
	p.Args = []string{"serve", "--orchestrator", "--node-id", id, "--data-dir", p.DataDir,
		"--api-addr", p.APIAddr, "--raft-addr", p.RaftAddr, "--gossip-addr", p.GossipAddr,
		"--join", strings.Join(c.join, ","), "--gossip-profile", "local", "--log-level", "debug"}
	if c.opts.FastFailover {
		p.Args = append(p.Args, FastFailoverArgs...)
	}
	if c.TLS != nil {
		p.TLS = c.TLS
		p.Args = append(p.Args, c.TLS.Args(c.TLS.ServerCert, c.TLS.ServerKey)...)
	}
	p.Args = append(p.Args, c.opts.ReplicaArgs...)
	// SHOAL_TEST_REPLICA_ARGS runs whole suites with other replica flags,
	// e.g. the fault tests on the other Raft log store (make test-bolt).
	p.Args = append(p.Args, strings.Fields(os.Getenv("SHOAL_TEST_REPLICA_ARGS"))...)
	return p
}

// AddReplica starts one more replica that joins the running cluster (it
// does not bootstrap: the leader adds it). It returns once it is running;
// use WaitVoters to wait for it to become a voter.
func (c *Cluster) AddReplica(args ...string) (*Process, error) {
	ports, err := freePorts(3)
	if err != nil {
		return nil, err
	}
	p := c.replicaProcess(len(c.Replicas), ports[0], ports[1], ports[2])
	p.Args = append(p.Args, args...)
	c.Replicas = append(c.Replicas, p)
	return p, p.Start()
}

func (c *Cluster) computeProcess(i, apiPort, gossipPort int) *Process {
	id := fmt.Sprintf("c%d", i+1)
	p := &Process{
		ID: id, Role: "compute", bin: c.bin,
		APIAddr: addr(apiPort), GossipAddr: addr(gossipPort),
		DataDir: filepath.Join(c.base, id), LogPath: filepath.Join(c.base, id+".log"),
	}
	p.Args = []string{"serve", "--compute", "--node-id", id, "--data-dir", p.DataDir,
		"--api-addr", p.APIAddr, "--gossip-addr", p.GossipAddr, "--join", strings.Join(c.join, ","),
		"--gossip-profile", "local", "--log-level", "debug"}
	if c.TLS != nil {
		p.TLS = c.TLS
		p.Args = append(p.Args, c.TLS.Args(c.TLS.ComputeCert, c.TLS.ComputeKey)...)
	}
	p.Args = append(p.Args, c.opts.ComputeArgs...)
	p.Args = append(p.Args, c.opts.PerCompute[i]...)
	return p
}

// AddCompute starts one more compute node (with the cluster's ComputeArgs
// and these extra arguments) and waits until it has registered.
func (c *Cluster) AddCompute(ctx context.Context, args ...string) (*Process, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	p := c.computeProcess(len(c.Computes), ports[0], ports[1])
	p.Args = append(p.Args, args...)
	c.Computes = append(c.Computes, p)
	if err := p.Start(); err != nil {
		return nil, err
	}
	return p, c.WaitNodes(ctx, len(c.Computes))
}

// FastFailoverArgs tune a replica for quick failure detection on loopback.
var FastFailoverArgs = []string{
	"--raft-heartbeat-timeout", "300ms", "--raft-election-timeout", "300ms",
	"--raft-leader-lease-timeout", "150ms", "--node-lost-grace", "2s", "--leader-node-grace", "3s",
}

func addr(port int) string { return net.JoinHostPort("127.0.0.1", strconv.Itoa(port)) }

func (c *Cluster) cleanup() {
	// Compute nodes stop gracefully, so they remove the containers they run;
	// a kill -9 would leave them behind.
	for _, p := range c.Computes {
		p.Stop()
	}
	for _, p := range c.Replicas {
		p.Kill()
	}
	if c.t.Failed() || os.Getenv("SHOAL_TEST_LOGS") != "" {
		for _, p := range append(append([]*Process{}, c.Replicas...), c.Computes...) {
			data, err := os.ReadFile(p.LogPath)
			if err != nil {
				continue
			}
			if len(data) > 40000 {
				data = data[len(data)-40000:]
			}
			c.t.Logf("----- log of %s (tail) -----\n%s", p.ID, data)
		}
	}
}

// Running returns the replicas that are running.
func (c *Cluster) Running() []*Process {
	var out []*Process
	for _, p := range c.Replicas {
		if p.Running() {
			out = append(out, p)
		}
	}
	return out
}

// Replica returns the replica with the given ID.
func (c *Cluster) Replica(id string) *Process {
	for _, p := range c.Replicas {
		if p.ID == id {
			return p
		}
	}
	return nil
}

// WaitLeader waits until the running replicas agree on a leader that is
// itself running, and returns it.
func (c *Cluster) WaitLeader(ctx context.Context) (*Process, error) {
	var last error
	for {
		leader, err := c.agreedLeader(ctx)
		if err == nil {
			return leader, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: %v", ctx.Err(), last)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func (c *Cluster) agreedLeader(ctx context.Context) (*Process, error) {
	return agreedLeaderAmong(ctx, c.Running())
}

// Followers returns the running replicas that are not the leader.
func (c *Cluster) Followers(leader *Process) []*Process {
	var out []*Process
	for _, p := range c.Running() {
		if p != leader {
			out = append(out, p)
		}
	}
	return out
}

// WaitNodes waits until n compute nodes are registered and connected.
func (c *Cluster) WaitNodes(ctx context.Context, n int) error {
	if n == 0 {
		return nil
	}
	for {
		p := c.Running()[0]
		r, err := p.Get(ctx, "/api/v1/orchestrator/nodes?limit=1000")
		if err == nil {
			var list api.ListNodesResponse
			if r.Decode(&list) == nil {
				connected := 0
				for _, node := range list.Nodes {
					if node.Connection != api.NodeDisconnected {
						connected++
					}
				}
				if connected >= n {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// WaitDigestsEqual waits until every running replica reports the same state
// digest at the same index, and returns it.
func (c *Cluster) WaitDigestsEqual(ctx context.Context) (api.DigestResponse, error) {
	var last error
	for {
		d, err := c.digestsEqual(ctx)
		if err == nil {
			return d, nil
		}
		last = err
		select {
		case <-ctx.Done():
			return api.DigestResponse{}, fmt.Errorf("%w: %v", ctx.Err(), last)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitDigestsSettled waits until every running replica reports the same
// digest and it stays the same for quiet: after a create, the leader's
// scheduler still writes the job's evaluation, so agreement alone is not a
// state that later requests can be compared against.
func (c *Cluster) WaitDigestsSettled(ctx context.Context, quiet time.Duration) (api.DigestResponse, error) {
	prev, err := c.WaitDigestsEqual(ctx)
	if err != nil {
		return prev, err
	}
	for {
		select {
		case <-ctx.Done():
			return prev, ctx.Err()
		case <-time.After(quiet):
		}
		d, err := c.WaitDigestsEqual(ctx)
		if err != nil {
			return d, err
		}
		if d == prev {
			return d, nil
		}
		prev = d
	}
}

func (c *Cluster) digestsEqual(ctx context.Context) (api.DigestResponse, error) {
	var first api.DigestResponse
	for i, p := range c.Running() {
		r, err := p.Get(ctx, "/api/v1/operator/digest")
		if err != nil {
			return first, err
		}
		var d api.DigestResponse
		if err := r.Decode(&d); err != nil {
			return first, err
		}
		if i == 0 {
			first = d
			continue
		}
		if d != first {
			return first, fmt.Errorf("%s has %+v, %s has %+v", c.Running()[0].ID, first, p.ID, d)
		}
	}
	return first, nil
}

// ErrNoReplica is returned when no running replica is left.
var ErrNoReplica = errors.New("no running replica")
