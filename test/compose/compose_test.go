// Package compose_test starts the docker-compose cluster of deploy/ (three
// orchestrator replicas and three compute nodes, in containers built from
// the tree) and checks with the shoal CLI what a user of it sees: every
// replica takes jobs, WebAssembly and Docker jobs run on the compute nodes,
// and killing the leader's container loses neither the service nor a job.
//
// It needs a Docker engine and Docker Compose (the plugin or docker-compose
// 1.29), and a statically linked /usr/bin/busybox (busybox-static) for the
// Docker jobs' image; nothing is pulled. It is skipped under -short.
package compose_test

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// jobLabel marks this test's jobs, so listing them exercises a selector.
const jobLabel = "suite=compose"

type submittedJob struct {
	id   string
	want string // what its execution prints
}

func TestComposeClusterSurvivesLeaderLoss(t *testing.T) {
	if testing.Short() {
		t.Skip("compose end-to-end test: builds images and starts six containers; skipped under -short")
	}
	c := startCluster(t)

	// Every replica takes jobs, whether it leads or forwards to the leader,
	// and both engines run them.
	var jobs []submittedJob
	for i := range replicas {
		name := fmt.Sprintf("o%d", i+1)
		jobs = append(jobs, c.runWasm(t, c.host(i), "via-"+name), c.runDocker(t, c.host(i), "docker via "+name))
	}
	// Each replica sees the jobs the others took.
	for i, j := range jobs {
		c.cli.expectCompleted(t, c.host((i/2+1)%replicas), j.id, j.want)
	}
	// With those jobs just run, Prometheus has data for every alert and
	// every dashboard panel; the election at start-up is a minute old, so
	// the leader alert is quiet before the leader is killed.
	c.checkPrometheus(t)
	c.waitAlert(t, leaderAlert, false, 3*time.Minute)

	oldLeader, err := c.leader(t.Context(), t, 0)
	if err != nil {
		t.Fatalf("asking o1 for the leader: %v", err)
	}
	dead := c.replicaIndex(t, oldLeader)
	t.Logf("killing the leader, o%d", dead+1)
	c.kill(t, fmt.Sprintf("o%d", dead+1))
	c.waitAlert(t, leaderAlert, true, time.Minute)

	// With the dead leader first in the list, the CLI must move on to
	// another replica; the first writes may land during the election.
	all := c.hosts(dead)
	jobs = append(jobs, c.runWasm(t, all, "after-the-leader-died"), c.runDocker(t, all, "docker after the leader died"))
	for _, j := range jobs {
		c.cli.expectCompleted(t, all, j.id, j.want)
	}

	for i := range replicas {
		if i == dead {
			continue
		}
		leader, err := c.leader(t.Context(), t, i)
		switch {
		case err != nil:
			t.Errorf("asking o%d for the leader: %v", i+1, err)
		case leader == "" || leader == oldLeader:
			t.Errorf("o%d names %q as the leader; want a surviving replica", i+1, leader)
		}
	}

	// No acknowledged job is missing from the list.
	var listed []*api.Job
	out := c.cli.run(t, all, "job", "list", "--labels", jobLabel, "--limit", "100", "--output", "json")
	if err := json.Unmarshal([]byte(out), &listed); err != nil {
		t.Fatalf("job list --output json: %v\n%s", err, out)
	}
	ids := make([]string, 0, len(listed))
	for _, j := range listed {
		ids = append(ids, j.ID)
	}
	for _, j := range jobs {
		if !slices.Contains(ids, j.id) {
			t.Errorf("job list --labels %s lacks %s; it lists %v", jobLabel, j.id, ids)
		}
	}
	// One election is not flapping: the alert resolves once it is out of
	// the rule's window.
	c.waitAlert(t, leaderAlert, false, 3*time.Minute)
}

// runWasm runs the WebAssembly example with NAME as its argument; it greets
// NAME.
func (c *composeCluster) runWasm(t *testing.T, hosts, name string) submittedJob {
	t.Helper()
	id := c.cli.runJob(t, hosts, "wasm", "-l", jobLabel, c.wasm, name)
	return submittedJob{id: id, want: "Hello, " + name + "!"}
}

// runDocker runs echo MESSAGE in the busybox image.
func (c *composeCluster) runDocker(t *testing.T, hosts, message string) submittedJob {
	t.Helper()
	id := c.cli.runJob(t, hosts, "docker", "-l", jobLabel, c.busyboxImage, "echo", message)
	return submittedJob{id: id, want: message}
}
