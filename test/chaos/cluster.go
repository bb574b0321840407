package chaos

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/workload"
)

// Compose labels, set by docker-compose 1.x and the Compose plugin alike.
const (
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
)

// Node is one container of the cluster.
type Node struct {
	Name      string // node ID (--node-id), else the Compose service name
	Container string // container ID
	Replica   bool   // an orchestrator replica; else a compute node
	DataDir   string // --data-dir inside the container
}

// Cluster is a running Compose project the nemeses act on: the suite's own
// (test/chaos/docker-compose.yml) or one a user points CHAOS_PROJECT at.
// Containers are reached at their address on the project's network, never
// through published ports, so a user's port layout does not matter.
type Cluster struct {
	Project string
	Nodes   []Node

	mu    sync.Mutex
	ips   map[string]string // node name → current address (changes on restart)
	pids  map[string]string // node name → host PID, "0" when stopped
	dirty map[string]bool   // nodes whose namespace holds rules or qdiscs
}

// docker runs the docker CLI and returns its trimmed standard output.
func docker(ctx context.Context, args ...string) (string, error) {
	return run(ctx, "docker", args...)
}

func run(ctx context.Context, name string, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return strings.TrimSpace(out.String()), nil
}

// ComposeCommand finds the Compose CLI: the plugin, else docker-compose.
func ComposeCommand() ([]string, error) {
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}, nil
	}
	if exec.Command("docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}, nil
	}
	return nil, errors.New("neither `docker compose` nor `docker-compose` is installed")
}

// StartOwn starts test/chaos/docker-compose.yml as project with image, and
// returns a function that removes every container, network and volume of
// the project; call it even when StartOwn fails.
func StartOwn(ctx context.Context, project, image string, env []string) (down func(), err error) {
	composeCmd, err := ComposeCommand()
	if err != nil {
		return func() {}, err
	}
	file, err := filepath.Abs("docker-compose.yml")
	if err != nil {
		return func() {}, err
	}
	compose := func(ctx context.Context, args ...string) error {
		full := append(slices.Clone(composeCmd[1:]), append([]string{"-p", project, "-f", file}, args...)...)
		cmd := exec.CommandContext(ctx, composeCmd[0], full...)
		cmd.Env = append(os.Environ(), append([]string{"SHOAL_IMAGE=" + image}, env...)...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			return fmt.Errorf("%s %s: %w\n%s", composeCmd[0], strings.Join(full, " "), err, out)
		}
		return nil
	}
	down = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		// Paused containers cannot be stopped; unpause whatever a failed run
		// left paused first.
		if ids, err := docker(ctx, "ps", "-q", "--filter", "label="+labelProject+"="+project, "--filter", "status=paused"); err == nil && ids != "" {
			_, _ = docker(ctx, append([]string{"unpause"}, strings.Fields(ids)...)...)
		}
		_ = compose(ctx, "down", "--volumes", "--remove-orphans", "--timeout", "5")
	}
	return down, compose(ctx, "up", "-d")
}

// Attach finds the containers of a Compose project: replicas are the ones
// started with --orchestrator, compute nodes the ones with --compute.
func Attach(ctx context.Context, project string) (*Cluster, error) {
	out, err := docker(ctx, "ps", "-aq", "--filter", "label="+labelProject+"="+project)
	if err != nil {
		return nil, err
	}
	ids := strings.Fields(out)
	if len(ids) == 0 {
		return nil, fmt.Errorf("compose project %q has no containers", project)
	}
	c := &Cluster{Project: project, ips: map[string]string{}, pids: map[string]string{}, dirty: map[string]bool{}}
	for _, id := range ids {
		raw, err := docker(ctx, "inspect", "--format", `{{json .Config.Cmd}} {{index .Config.Labels "`+labelService+`"}}`, id)
		if err != nil {
			return nil, err
		}
		cmdJSON, service, _ := strings.Cut(raw, " ")
		var args []string
		if err := json.Unmarshal([]byte(cmdJSON), &args); err != nil {
			return nil, fmt.Errorf("container %s command %s: %w", id, cmdJSON, err)
		}
		n := Node{Name: service, Container: id, DataDir: "/data"}
		for i, a := range args {
			switch {
			case a == "--orchestrator":
				n.Replica = true
			case a == "--node-id" && i+1 < len(args):
				n.Name = args[i+1]
			case strings.HasPrefix(a, "--node-id="):
				n.Name = strings.TrimPrefix(a, "--node-id=")
			case a == "--data-dir" && i+1 < len(args):
				n.DataDir = args[i+1]
			}
		}
		if !n.Replica && !slices.Contains(args, "--compute") {
			continue // not a shoal node (a user's Prometheus, say)
		}
		c.Nodes = append(c.Nodes, n)
	}
	slices.SortFunc(c.Nodes, func(a, b Node) int { return strings.Compare(a.Name, b.Name) })
	if len(c.Replicas()) < 3 {
		return nil, fmt.Errorf("compose project %q has %d replicas; the suite needs 3", project, len(c.Replicas()))
	}
	return c, c.Refresh(ctx)
}

// Replicas returns the replica nodes, by name.
func (c *Cluster) Replicas() []Node {
	return slices.DeleteFunc(slices.Clone(c.Nodes), func(n Node) bool { return !n.Replica })
}

// Computes returns the compute nodes, by name.
func (c *Cluster) Computes() []Node {
	return slices.DeleteFunc(slices.Clone(c.Nodes), func(n Node) bool { return n.Replica })
}

// Node returns a node by name.
func (c *Cluster) Node(name string) Node {
	for _, n := range c.Nodes {
		if n.Name == name {
			return n
		}
	}
	return Node{Name: name}
}

// Refresh reads every container's network address and process ID again,
// in one docker call.
func (c *Cluster) Refresh(ctx context.Context) error {
	args := []string{"inspect", "--format", `{{.Id}} {{.State.Pid}} {{range .NetworkSettings.Networks}}{{.IPAddress}} {{end}}`}
	for _, n := range c.Nodes {
		args = append(args, n.Container)
	}
	out, err := docker(ctx, args...)
	if err != nil {
		return err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		for _, n := range c.Nodes {
			if !strings.HasPrefix(f[0], n.Container) {
				continue
			}
			c.pids[n.Name] = f[1]
			if len(f) > 2 {
				c.ips[n.Name] = f[2]
			}
		}
	}
	return nil
}

// IP returns a node's last known address.
func (c *Cluster) IP(name string) string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ips[name]
}

// Target is the workload's handle on a replica.
func (c *Cluster) Target(name string) workload.Target {
	return workload.Target{Name: name, URL: "http://" + c.IP(name) + ":1234"}
}

// Gateway returns the project network's gateway: the host as the
// containers see it.
func (c *Cluster) Gateway(ctx context.Context) (string, error) {
	out, err := docker(ctx, "inspect", "--format", `{{range .NetworkSettings.Networks}}{{.Gateway}} {{end}}`, c.Nodes[0].Container)
	if err != nil {
		return "", err
	}
	f := strings.Fields(out)
	if len(f) == 0 {
		return "", fmt.Errorf("container %s has no network gateway", c.Nodes[0].Name)
	}
	return f[0], nil
}

// pid returns the host PID of a node's process as last read by Refresh.
func (c *Cluster) pid(name string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p := c.pids[name]; p != "" && p != "0" {
		return p, nil
	}
	return "", fmt.Errorf("%s is not running", name)
}

// InNetns runs a command (iptables, tc) inside a node's network namespace,
// with the host's tools: the images stay FROM scratch.
func (c *Cluster) InNetns(ctx context.Context, name string, args ...string) error {
	pid, err := c.pid(name)
	if err != nil {
		return err
	}
	c.mu.Lock()
	c.dirty[name] = true
	c.mu.Unlock()
	_, err = run(ctx, "nsenter", append([]string{"-t", pid, "-n"}, args...)...)
	return err
}

// Cut drops every packet between the nodes of a and the nodes of b, in
// both directions, with iptables rules in each side's namespace (one
// nsenter per node).
func (c *Cluster) Cut(ctx context.Context, a, b []string) error {
	rules := map[string][]string{}
	drop := func(at, from string) {
		rules[at] = append(rules[at], "iptables -w -I INPUT -s "+c.IP(from)+" -j DROP")
	}
	for _, x := range a {
		for _, y := range b {
			if x != y {
				drop(x, y)
				drop(y, x)
			}
		}
	}
	for n, rs := range rules {
		if err := c.InNetns(ctx, n, "sh", "-c", strings.Join(rs, " && ")); err != nil {
			return err
		}
	}
	return nil
}

// HealNetwork removes every rule and qdisc the nemeses put in a node's
// namespace. A stopped node is skipped: it gets a fresh namespace when it
// starts.
func (c *Cluster) HealNetwork(ctx context.Context, name string) error {
	if _, err := c.pid(name); err != nil {
		return nil
	}
	// No qdisc to delete is fine.
	if err := c.InNetns(ctx, name, "sh", "-c", "iptables -w -F INPUT && { tc qdisc del dev eth0 root 2>/dev/null; true; }"); err != nil {
		return err
	}
	c.mu.Lock()
	delete(c.dirty, name)
	c.mu.Unlock()
	return nil
}

// Dirty returns the nodes whose namespace a nemesis changed since their
// last heal.
func (c *Cluster) Dirty() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for n := range c.dirty {
		out = append(out, n)
	}
	slices.Sort(out)
	return out
}

// States returns every container's state (running, paused, exited, …) by
// node name, from one docker call.
func (c *Cluster) States(ctx context.Context) (map[string]string, error) {
	out, err := docker(ctx, "ps", "-a", "--filter", "label="+labelProject+"="+c.Project, "--format", "{{.ID}} {{.State}}")
	if err != nil {
		return nil, err
	}
	byID := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if id, state, ok := strings.Cut(line, " "); ok {
			byID[id] = state
		}
	}
	states := map[string]string{}
	for _, n := range c.Nodes {
		for id, st := range byID {
			if strings.HasPrefix(n.Container, id) || strings.HasPrefix(id, n.Container) {
				states[n.Name] = st
			}
		}
	}
	return states, nil
}

// Raft asks one replica for its view of Raft, within a short bound.
func (c *Cluster) Raft(ctx context.Context, name string) (*api.RaftConfigurationResponse, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	var out api.RaftConfigurationResponse
	_, err := workload.GetJSON(ctx, c.Target(name), "/api/v1/operator/raft", &out)
	return &out, err
}

// Leader returns the replica that reports itself leader, among those that
// answer, and whether one did.
func (c *Cluster) Leader(ctx context.Context) (string, bool) {
	for _, n := range c.Replicas() {
		if r, err := c.Raft(ctx, n.Name); err == nil && r.State == "Leader" {
			return n.Name, true
		}
	}
	return "", false
}

// WaitLeader waits until some replica reports itself leader, among names
// when given.
func (c *Cluster) WaitLeader(ctx context.Context, among []string) (string, error) {
	for {
		if l, ok := c.Leader(ctx); ok && (len(among) == 0 || slices.Contains(among, l)) {
			return l, nil
		}
		select {
		case <-ctx.Done():
			return "", fmt.Errorf("no leader among %v: %w", among, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// WaitHealthy waits until every replica answers with a leader known and all
// replicas voters, and every compute node is registered with the cluster.
func (c *Cluster) WaitHealthy(ctx context.Context) error {
	var last error
	for {
		last = c.healthy(ctx)
		if last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("cluster not healthy: %w (last: %v)", ctx.Err(), last)
		case <-time.After(time.Second):
		}
	}
}

func (c *Cluster) healthy(ctx context.Context) error {
	for _, n := range c.Replicas() {
		r, err := c.Raft(ctx, n.Name)
		if err != nil {
			return err
		}
		if r.Leader == "" {
			return fmt.Errorf("%s knows no leader", n.Name)
		}
		voters := 0
		for _, s := range r.Servers {
			if s.Voter {
				voters++
			}
		}
		if voters != len(c.Replicas()) {
			return fmt.Errorf("%s sees %d voters, want %d", n.Name, voters, len(c.Replicas()))
		}
	}
	var nodes api.ListNodesResponse
	sctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if _, err := workload.GetJSON(sctx, c.Target(c.Replicas()[0].Name), "/api/v1/orchestrator/nodes?limit=100", &nodes); err != nil {
		return err
	}
	connected := 0
	for _, n := range nodes.Nodes {
		if n.Connection == api.NodeConnected && n.NodeType == api.NodeTypeCompute {
			connected++
		}
	}
	if connected < len(c.Computes()) {
		return fmt.Errorf("%d of %d compute nodes connected", connected, len(c.Computes()))
	}
	return nil
}
