package compose_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cerrdefs "github.com/containerd/errdefs"
	"github.com/docker/docker/api/types/container"
	"github.com/docker/docker/api/types/filters"
	"github.com/docker/docker/api/types/image"
	"github.com/docker/docker/api/types/network"
	"github.com/docker/docker/api/types/volume"
	"github.com/docker/docker/client"

	"github.com/shoal-io/shoal/api"
	shoalclient "github.com/shoal-io/shoal/api/client"
)

const (
	replicas     = 3
	computeNodes = 3
	// readyTimeout bounds starting the containers until the cluster has a
	// leader and every compute node is registered and connected.
	readyTimeout = 3 * time.Minute
	// Compose labels, set by docker-compose 1.x and the Compose plugin alike.
	labelProject = "com.docker.compose.project"
	labelService = "com.docker.compose.service"
	// labelJobNode is what the compute node's Docker engine puts on the
	// containers it runs (compute/engine/docker.LabelNode).
	labelJobNode = "shoal.node"
)

// composeCluster is deploy/docker-compose.yml started under a project name,
// host ports, image tags and node IDs of its own, so that it never meets the
// demo or another run of this test on the same Docker engine.
type composeCluster struct {
	project string
	// idPrefix starts every node ID: the job containers of this cluster's
	// compute nodes carry it in their labels.
	idPrefix     string
	root         string
	compose      []string
	env          []string
	ports        [replicas]int
	dataDir      string
	image        string
	busyboxImage string
	promImage    string
	promPort     int
	wasm         string
	cli          cli
	docker       *client.Client
}

// startCluster builds the binary, the images and the WebAssembly example,
// starts the cluster and waits until it is ready. Everything it created is
// removed when the test ends, passed or failed.
func startCluster(t *testing.T) *composeCluster {
	t.Helper()
	ctx := t.Context()
	docker := dockerClient(t)
	composeCmd := findCompose(t)
	requirePrometheus(t)
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := shoalBinary(t, root)
	suffix := randomHex(t)
	c := &composeCluster{
		project:      "shoalcompose" + suffix,
		idPrefix:     "t" + suffix + "-",
		root:         root,
		compose:      composeCmd,
		image:        "shoal-composetest:" + suffix,
		busyboxImage: "shoal-composetest-busybox:" + suffix,
		promImage:    "shoal-composetest-prometheus:" + suffix,
		cli:          cli{bin: bin},
		docker:       docker,
	}
	t.Logf("compose project %s, node IDs %so1…, images %s and %s", c.project, c.idPrefix, c.image, c.busyboxImage)

	// Cleanups run last-registered first: the cluster goes down before its
	// data folder and images are removed.
	t.Cleanup(func() { c.removeImages(t) })
	c.run(t, "build the shoal image", "bash", filepath.Join(root, "deploy", "build-image.sh"), bin, c.image)
	c.run(t, "build the busybox image", "bash", filepath.Join(root, "deploy", "build-busybox-image.sh"), c.busyboxImage)
	c.run(t, "build the Prometheus image", "bash", filepath.Join(root, "deploy", "build-prometheus-image.sh"), c.promImage)
	c.wasm = filepath.Join(t.TempDir(), "hello.wasm")
	build := exec.CommandContext(ctx, "go", "build", "-o", c.wasm, "./deploy/examples/hello-wasm")
	build.Dir = root
	build.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("build the WebAssembly example: %v\n%s", err, out)
	}

	// The compute nodes' folders are host folders mounted at the same path
	// (Docker jobs bind-mount from them). Not t.TempDir: its cleanup would
	// fail on the files containers write there as root.
	if c.dataDir, err = os.MkdirTemp("", "shoal-compose-"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.removeDataDir(t) })
	for i := range computeNodes {
		if err := os.Mkdir(filepath.Join(c.dataDir, fmt.Sprintf("c%d", i+1)), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	writeTestRules(t, root, c.dataDir)
	ports, err := freePorts(replicas + 1)
	if err != nil {
		t.Fatal(err)
	}
	copy(c.ports[:], ports)
	c.promPort = ports[replicas]
	c.env = append(os.Environ(),
		"SHOAL_IMAGE="+c.image,
		"SHOAL_PROM_IMAGE="+c.promImage,
		"SHOAL_PROM_PORT="+strconv.Itoa(c.promPort),
		"SHOAL_DEMO_DATA="+c.dataDir,
		"SHOAL_ID_PREFIX="+c.idPrefix,
		"SHOAL_PUBLISH_IP=127.0.0.1",
	)
	for i, p := range c.ports {
		c.env = append(c.env, fmt.Sprintf("SHOAL_O%d_PORT=%d", i+1, p))
	}

	t.Cleanup(func() { c.down(t) })
	c.composeRun(t, "up", "-d")
	c.waitReady(t)
	return c
}

// host is the API address of replica i (0-based) on this machine.
func (c *composeCluster) host(i int) string {
	return "127.0.0.1:" + strconv.Itoa(c.ports[i])
}

// hosts lists every replica's API, starting with replica first: the CLI
// tries them in turn.
func (c *composeCluster) hosts(first int) string {
	list := []string{c.host(first)}
	for i := range replicas {
		if i != first {
			list = append(list, c.host(i))
		}
	}
	return strings.Join(list, ",")
}

func (c *composeCluster) apiClient(t *testing.T, i int) *shoalclient.Client {
	t.Helper()
	cl, err := shoalclient.New([]string{"http://" + c.host(i)}, shoalclient.WithTimeout(5*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	return cl
}

// replicaIndex turns a replica's node ID (prefix + "o2") into its index.
func (c *composeCluster) replicaIndex(t *testing.T, nodeID string) int {
	t.Helper()
	for i := range replicas {
		if nodeID == fmt.Sprintf("%so%d", c.idPrefix, i+1) {
			return i
		}
	}
	t.Fatalf("%q is not a replica of this cluster", nodeID)
	return -1
}

// waitReady waits until every container is healthy, every replica knows
// the same leader among three voters, and every replica lists the three
// compute nodes as connected.
func (c *composeCluster) waitReady(t *testing.T) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), readyTimeout)
	defer cancel()
	var last error
	for {
		if last = c.ready(ctx, t); last == nil {
			return
		}
		if err := sleep(ctx, time.Second); err != nil {
			t.Fatalf("the cluster was not ready within %v: %v", readyTimeout, last)
		}
	}
}

func (c *composeCluster) ready(ctx context.Context, t *testing.T) error {
	list, err := c.docker.ContainerList(ctx, container.ListOptions{All: true,
		Filters: filters.NewArgs(filters.Arg("label", labelProject+"="+c.project))})
	if err != nil {
		return fmt.Errorf("listing containers: %w", err)
	}
	// The shoal containers and Prometheus.
	if len(list) != replicas+computeNodes+1 {
		return fmt.Errorf("%d containers, want %d", len(list), replicas+computeNodes+1)
	}
	for _, ct := range list {
		service := ct.Labels[labelService]
		info, err := c.docker.ContainerInspect(ctx, ct.ID)
		if err != nil {
			return fmt.Errorf("inspecting %s: %w", service, err)
		}
		if !info.State.Running {
			// Waiting would not help: say why it stopped.
			t.Fatalf("container %s is %s (exit code %d)", service, info.State.Status, info.State.ExitCode)
		}
		if service == "prometheus" {
			continue // no health check: its image has nothing to run one with
		}
		if info.State.Health == nil || info.State.Health.Status != container.Healthy {
			return fmt.Errorf("container %s is not healthy yet", service)
		}
	}
	leaders := map[string]bool{}
	for i := range replicas {
		cfg, _, err := c.apiClient(t, i).Operator().Raft(ctx)
		if err != nil {
			return fmt.Errorf("replica o%d: raft configuration: %w", i+1, err)
		}
		if cfg.Leader == "" || len(cfg.Servers) != replicas {
			return fmt.Errorf("replica o%d: leader %q among %d servers", i+1, cfg.Leader, len(cfg.Servers))
		}
		leaders[cfg.Leader] = true
		nodes, _, err := c.apiClient(t, i).Nodes().List(ctx, shoalclient.ListNodesOptions{})
		if err != nil {
			return fmt.Errorf("replica o%d: nodes: %w", i+1, err)
		}
		connected := 0
		for _, n := range nodes.Nodes {
			if n.NodeType == api.NodeTypeCompute && n.Connection == api.NodeConnected {
				connected++
			}
		}
		if connected != computeNodes {
			return fmt.Errorf("replica o%d: %d compute nodes connected, want %d", i+1, connected, computeNodes)
		}
	}
	if len(leaders) != 1 {
		return fmt.Errorf("replicas disagree on the leader: %v", leaders)
	}
	return nil
}

// leader asks replica i which replica leads.
func (c *composeCluster) leader(ctx context.Context, t *testing.T, i int) (string, error) {
	cfg, _, err := c.apiClient(t, i).Operator().Raft(ctx)
	if err != nil {
		return "", err
	}
	return cfg.Leader, nil
}

// kill sends SIGKILL to the container of a compose service.
func (c *composeCluster) kill(t *testing.T, service string) {
	t.Helper()
	ctx := t.Context()
	list, err := c.docker.ContainerList(ctx, container.ListOptions{Filters: filters.NewArgs(
		filters.Arg("label", labelProject+"="+c.project), filters.Arg("label", labelService+"="+service))})
	if err != nil {
		t.Fatalf("finding the container of %s: %v", service, err)
	}
	if len(list) != 1 {
		t.Fatalf("%d running containers for service %s, want 1", len(list), service)
	}
	if err := c.docker.ContainerKill(ctx, list[0].ID, "KILL"); err != nil {
		t.Fatalf("docker kill %s: %v", service, err)
	}
}

// down removes the cluster: its containers, network and volumes, logging
// the containers' output first when the test failed. Whatever compose
// leaves is removed by label, so only this project is ever touched.
func (c *composeCluster) down(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), 2*time.Minute)
	defer cancel()
	if t.Failed() {
		if out, err := c.composeOutput(ctx, "logs", "--no-color", "--tail", "150"); err == nil {
			t.Logf("container logs:\n%s", out)
		}
	}
	if out, err := c.composeOutput(ctx, "down", "--volumes", "--remove-orphans", "--timeout", "10"); err != nil {
		t.Errorf("compose down: %v\n%s", err, out)
	}
	var errs []error
	project := filters.NewArgs(filters.Arg("label", labelProject+"="+c.project))
	if list, err := c.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: project}); err == nil {
		for _, ct := range list {
			errs = append(errs, c.docker.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true, RemoveVolumes: true}))
		}
	}
	// Job containers a killed compute node could not remove.
	for i := range computeNodes {
		node := filters.NewArgs(filters.Arg("label", fmt.Sprintf("%s=%sc%d", labelJobNode, c.idPrefix, i+1)))
		if list, err := c.docker.ContainerList(ctx, container.ListOptions{All: true, Filters: node}); err == nil {
			for _, ct := range list {
				errs = append(errs, c.docker.ContainerRemove(ctx, ct.ID, container.RemoveOptions{Force: true}))
			}
		}
	}
	if nets, err := c.docker.NetworkList(ctx, network.ListOptions{Filters: project}); err == nil {
		for _, n := range nets {
			errs = append(errs, c.docker.NetworkRemove(ctx, n.ID))
		}
	}
	if vols, err := c.docker.VolumeList(ctx, volume.ListOptions{Filters: project}); err == nil {
		for _, v := range vols.Volumes {
			errs = append(errs, c.docker.VolumeRemove(ctx, v.Name, true))
		}
	}
	if err := errors.Join(errs...); err != nil {
		t.Errorf("removing what compose left of %s: %v", c.project, err)
	}
}

// removeDataDir removes the compute nodes' folder. Containers wrote there
// as root; a user who may not remove those files has a container do it.
func (c *composeCluster) removeDataDir(t *testing.T) {
	if err := os.RemoveAll(c.dataDir); err == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "docker", "run", "--rm", "--network", "none", "-v", c.dataDir+":/data",
		c.busyboxImage, "sh", "-c", "rm -rf /data/* /data/.[!.]*")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("removing %s: %v\n%s", c.dataDir, err, out)
	}
	if err := os.RemoveAll(c.dataDir); err != nil {
		t.Errorf("removing %s: %v", c.dataDir, err)
	}
}

func (c *composeCluster) removeImages(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(t.Context()), time.Minute)
	defer cancel()
	for _, ref := range []string{c.image, c.busyboxImage, c.promImage} {
		_, err := c.docker.ImageRemove(ctx, ref, image.RemoveOptions{Force: true, PruneChildren: true})
		if err != nil && !cerrdefs.IsNotFound(err) {
			t.Errorf("removing image %s: %v", ref, err)
		}
	}
}

// composeRun runs a compose command and fails the test if it fails.
func (c *composeCluster) composeRun(t *testing.T, args ...string) {
	t.Helper()
	if out, err := c.composeOutput(t.Context(), args...); err != nil {
		t.Fatalf("compose %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func (c *composeCluster) composeOutput(ctx context.Context, args ...string) ([]byte, error) {
	full := append(append(append([]string(nil), c.compose[1:]...),
		"-p", c.project, "-f", filepath.Join(c.root, "deploy", "docker-compose.yml")), args...)
	cmd := exec.CommandContext(ctx, c.compose[0], full...)
	cmd.Dir = c.root
	cmd.Env = c.env
	return cmd.CombinedOutput()
}

// run runs a helper command and fails the test if it fails.
func (c *composeCluster) run(t *testing.T, what, name string, args ...string) {
	t.Helper()
	cmd := exec.CommandContext(t.Context(), name, args...)
	cmd.Dir = c.root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", what, err, out)
	}
}

// shoalBinary builds the static shoal binary the image and the CLI use,
// into the test's temporary folder; SHOAL_BINARY, when set, is used instead.
func shoalBinary(t *testing.T, root string) string {
	t.Helper()
	if p := os.Getenv("SHOAL_BINARY"); p != "" {
		return p
	}
	bin := filepath.Join(t.TempDir(), "shoal")
	cmd := exec.CommandContext(t.Context(), "go", "build", "-o", bin, "./cmd/shoal")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build shoal: %v\n%s", err, out)
	}
	return bin
}

// dockerClient returns a client of the local engine, or skips the test when
// none answers.
func dockerClient(t *testing.T) *client.Client {
	t.Helper()
	cli, err := client.NewClientWithOpts(client.FromEnv, client.WithAPIVersionNegotiation())
	if err != nil {
		t.Skipf("SKIPPING COMPOSE TEST: cannot build a Docker client: %v", err)
	}
	t.Cleanup(func() { cli.Close() })
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	if _, err := cli.Ping(ctx); err != nil {
		t.Skipf("SKIPPING COMPOSE TEST: no Docker engine answers: %v", err)
	}
	return cli
}

// findCompose returns the Compose command, as the Makefile picks it: the
// plugin when there is one, else docker-compose.
func findCompose(t *testing.T) []string {
	t.Helper()
	if exec.Command("docker", "compose", "version").Run() == nil {
		return []string{"docker", "compose"}
	}
	if exec.Command("docker-compose", "version").Run() == nil {
		return []string{"docker-compose"}
	}
	t.Skip("SKIPPING COMPOSE TEST: neither `docker compose` nor `docker-compose` is installed")
	return nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("finding a free port: %w", err)
		}
		defer l.Close()
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func randomHex(t *testing.T) string {
	b := make([]byte, 4)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

func sleep(ctx context.Context, d time.Duration) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(d):
		return nil
	}
}

// trimmed shortens command output for failure messages.
func trimmed(b []byte) string {
	b = bytes.TrimSpace(b)
	if len(b) > 4000 {
		return "…" + string(b[len(b)-4000:])
	}
	return string(b)
}
