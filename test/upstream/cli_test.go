package upstream

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
)

// bacalhau runs upstream's CLI against one replica, on loopback only.
type bacalhau struct {
	bin, host, port, repo string
}

func (b bacalhau) run(t *testing.T, args ...string) (string, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 3*time.Minute)
	defer cancel()
	full := append([]string{"--api-host", b.host, "--api-port", b.port}, args...)
	cmd := exec.CommandContext(ctx, b.bin, full...)
	// Its own folder, the "local" environment (no update checks, no
	// public bootstrap peers), and no telemetry exporter.
	cmd.Env = append(os.Environ(), "BACALHAU_DIR="+b.repo, "BACALHAU_ENVIRONMENT=local",
		"BACALHAU_UPDATE_SKIPCHECKS=true", "OTEL_SDK_DISABLED=true", "HOME="+b.repo)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if err != nil {
		return stdout.String(), fmt.Errorf("bacalhau %s: %w\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, stdout.String(), stderr.String())
	}
	return stdout.String(), nil
}

// must runs a command and fails the test when it fails.
func (b bacalhau) must(t *testing.T, args ...string) string {
	t.Helper()
	out, err := b.run(t, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestUpstreamCLI(t *testing.T) {
	bin := os.Getenv("BACALHAU_BIN")
	if bin == "" {
		t.Skip("SKIPPING UPSTREAM CLI TEST: set BACALHAU_BIN to a bacalhau v1.2.3 binary built from its public source (see README, \"Upstream's CLI\")")
	}
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("BACALHAU_BIN=%s: %v", bin, err)
	}
	e := newEnv(t, 1)
	wasmURL := serveHelloWasm(t)
	host, port, err := net.SplitHostPort(e.follower.APIAddr)
	if err != nil {
		t.Fatal(err)
	}
	b := bacalhau{bin: bin, host: host, port: port, repo: t.TempDir()}
	t.Logf("upstream CLI %s against follower %s", bin, e.follower.ID)
	if out, err := b.run(t, "version"); err == nil {
		t.Logf("bacalhau version:\n%s", out)
	}

	dir := t.TempDir()
	spec := filepath.Join(dir, "hello.yaml")
	writeFile(t, spec, fmt.Sprintf(`Name: upstream-hello
Type: batch
Count: 1
Labels:
  suite: upstream
Tasks:
  - Name: main
    Engine:
      Type: wasm
      Params:
        EntryModule:
          Source:
            Type: urlDownload
            Params:
              URL: %s
        Parameters: [upstream]
`, wasmURL))

	var jobID string
	t.Run("job run", func(t *testing.T) {
		out := b.must(t, "job", "run", "--wait", "--id-only", spec)
		jobID = strings.TrimSpace(lastLine(out))
		if !regexp.MustCompile(`^j-[0-9a-f-]{36}$`).MatchString(jobID) {
			t.Fatalf("job run --id-only printed %q, want a job ID", out)
		}
	})
	if jobID == "" {
		t.FailNow()
	}
	job := e.waitJob(t, jobID)
	if job.State.StateType != api.JobStateTypeCompleted {
		t.Fatalf("job %s ended %s", jobID, job.State.StateType)
	}
	short := jobID[:10] // j- and 8 characters, as upstream shows it

	t.Run("job describe", func(t *testing.T) {
		for _, id := range []string{jobID, short} {
			out := b.must(t, "job", "describe", id)
			for _, want := range []string{jobID, "upstream-hello", "Completed", "Hello, upstream!"} {
				if !strings.Contains(out, want) {
					t.Errorf("job describe %s lacks %q:\n%s", id, want, out)
				}
			}
		}
		out := b.must(t, "job", "describe", short, "--output", "json")
		var resp struct {
			Job        *api.Job `json:"Job"`
			Executions struct {
				Executions []*api.Execution `json:"Executions"`
			} `json:"Executions"`
		}
		if err := json.Unmarshal([]byte(out), &resp); err != nil {
			t.Fatalf("job describe --output json: %v\n%s", err, out)
		}
		if resp.Job == nil || resp.Job.ID != jobID || resp.Job.State.StateType != api.JobStateTypeCompleted {
			t.Errorf("job describe --output json: job %+v", resp.Job)
		}
		if len(resp.Executions.Executions) != 1 || resp.Executions.Executions[0].NodeID != "c1" {
			t.Errorf("job describe --output json: executions %+v", resp.Executions.Executions)
		}
	})

	t.Run("job list", func(t *testing.T) {
		out := b.must(t, "job", "list", "--labels", "suite=upstream")
		// Upstream's list shows the engine in its JOB column, not the name.
		if !strings.Contains(out, short) || !strings.Contains(out, "wasm") || !strings.Contains(out, "Completed") {
			t.Errorf("job list lacks the job %s:\n%s", short, out)
		}
	})

	t.Run("job history", func(t *testing.T) {
		out := b.must(t, "job", "history", jobID)
		for _, want := range []string{"Job", "Execution", "Completed"} {
			if !strings.Contains(out, want) {
				t.Errorf("job history lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("job executions", func(t *testing.T) {
		out := b.must(t, "job", "executions", jobID)
		if !strings.Contains(out, "c1") || !strings.Contains(out, "Completed") {
			t.Errorf("job executions lacks node c1 and Completed:\n%s", out)
		}
	})

	t.Run("job logs", func(t *testing.T) {
		out := b.must(t, "job", "logs", jobID)
		if !strings.Contains(out, "Hello, upstream! (a wasip1/wasm program)") {
			t.Errorf("job logs lacks the greeting:\n%s", out)
		}
	})

	t.Run("job stop", func(t *testing.T) {
		// A job no node can take waits in the queue until it is stopped.
		waiting := filepath.Join(dir, "waiting.yaml")
		writeFile(t, waiting, `Name: upstream-waiting
Type: batch
Count: 1
Labels:
  suite: upstream
Constraints:
  - Key: zone
    Operator: "="
    Values: [nowhere]
Tasks:
  - Name: main
    Engine:
      Type: noop
`)
		id := strings.TrimSpace(lastLine(b.must(t, "job", "run", "--wait=false", "--id-only", waiting)))
		if !strings.HasPrefix(id, "j-") {
			t.Fatalf("job run --id-only printed %q", id)
		}
		out := b.must(t, "job", "stop", id)
		if !strings.Contains(out, id) && !strings.Contains(strings.ToLower(out), "stop") {
			t.Errorf("job stop printed:\n%s", out)
		}
		if got := e.waitJob(t, id); got.State.StateType != api.JobStateTypeStopped {
			t.Errorf("after job stop, the job is %s", got.State.StateType)
		}
	})

	nodes := e.nodes(t)
	c1 := nodes["c1"]
	t.Run("node list", func(t *testing.T) {
		out := b.must(t, "node", "list")
		if !strings.Contains(out, "c1") || !strings.Contains(out, "Compute") {
			t.Errorf("node list lacks compute node c1:\n%s", out)
		}
		out = b.must(t, "node", "list", "--output", "json")
		var listed []struct {
			NodeID   string `json:"NodeID"`
			PeerInfo struct {
				ID string `json:"ID"`
			} `json:"PeerInfo"`
		}
		if err := json.Unmarshal([]byte(out), &listed); err != nil {
			t.Fatalf("node list --output json: %v\n%s", err, out)
		}
		found := false
		for _, n := range listed {
			found = found || (n.NodeID == "c1" && n.PeerInfo.ID == c1.PeerInfo.ID)
		}
		if !found {
			t.Errorf("node list --output json lacks c1 with peer ID %s:\n%s", c1.PeerInfo.ID, out)
		}
	})

	t.Run("node describe", func(t *testing.T) {
		for _, id := range []string{"c1", c1.PeerInfo.ID} {
			out := b.must(t, "node", "describe", id)
			if !strings.Contains(out, "c1") || !strings.Contains(out, c1.PeerInfo.ID) {
				t.Errorf("node describe %s lacks c1 and its peer ID:\n%s", id, out)
			}
		}
	})
}

// waitJob waits until the job ends, as the follower sees it.
func (e *env) waitJob(t *testing.T, id string) *api.Job {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	return waitTerminal(ctx, t, e.api, id)
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
