package observability

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/shoal-io/shoal/test/testcluster"
)

// promtool returns the path of promtool, or skips (fails in CI) without it.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		if os.Getenv("SHOAL_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("promtool is not installed (apt-get install prometheus) and SHOAL_REQUIRE_PROMTOOL=1")
		}
		t.Skip("promtool is not installed (apt-get install prometheus); skipping")
	}
	return p
}

// deployDir is deploy/prometheus in this checkout.
func deployDir(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..", "deploy", "prometheus")
}

func run(t *testing.T, dir string, stdin []byte, name string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	if stdin != nil {
		cmd.Stdin = bytes.NewReader(stdin)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestAlertRules(t *testing.T) {
	pt := promtool(t)
	dir := deployDir(t)
	run(t, dir, nil, pt, "check", "rules", "alerts.yml")
	out := run(t, dir, nil, pt, "test", "rules", "alerts_test.yml")
	if !strings.Contains(out, "SUCCESS") {
		t.Fatalf("promtool test rules did not succeed:\n%s", out)
	}
	// Every rule has unit tests that see it fire and stay silent.
	rules := alertNames(t, filepath.Join(dir, "alerts.yml"))
	tests, err := os.ReadFile(filepath.Join(dir, "alerts_test.yml"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range rules {
		fires := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts:\n\s+- exp_labels`)
		silent := regexp.MustCompile(`alertname: ` + name + `\n\s+exp_alerts: \[\]`)
		if !fires.Match(tests) {
			t.Errorf("alerts_test.yml never expects %s to fire", name)
		}
		if !silent.Match(tests) {
			t.Errorf("alerts_test.yml never expects %s to stay silent", name)
		}
	}
	if len(rules) < 14 {
		t.Errorf("alerts.yml has %d rules, want the 14 named in the README", len(rules))
	}
}

func alertNames(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range regexp.MustCompile(`(?m)^\s+- alert: (\w+)`).FindAllSubmatch(b, -1) {
		names = append(names, string(m[1]))
	}
	return names
}

// seriesIn returns the metric names an expression file uses (shoal_*, up).
func seriesIn(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, m := range regexp.MustCompile(`\bshoal_[a-z0-9_]+`).FindAll(b, -1) {
		name := string(m)
		for _, suf := range []string{"_bucket", "_sum", "_count"} {
			name = strings.TrimSuffix(name, suf)
		}
		seen[name] = true
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// TestMetricsPromtool scrapes a replica and a compute node that have run a
// job, checks both with promtool, and checks that every series the alerts
// and the dashboard use is exposed by one of them.
func TestMetricsPromtool(t *testing.T) {
	pt := promtool(t)
	if testing.Short() {
		t.Skip("starts a cluster")
	}
	c := testcluster.Start(t, testcluster.Options{Replicas: 1, ComputeNodes: 1, ComputeArgs: []string{"--engines", "noop"}})
	cl, err := client.New([]string{c.Replicas[0].URL()})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	job := &api.Job{Name: "metrics", Type: api.JobTypeBatch, Count: 1,
		Tasks: []*api.Task{{Name: "main", Engine: &api.SpecConfig{Type: "noop"}}}}
	resp, _, err := cl.Jobs().Put(ctx, &api.PutJobRequest{Job: job})
	if err != nil {
		t.Fatalf("submit: %v", err)
	}
	for {
		got, _, err := cl.Jobs().Get(ctx, resp.JobID, client.GetJobOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if got.Job.State.StateType == api.JobStateTypeCompleted {
			break
		}
		if got.Job.State.StateType.IsTerminal() {
			t.Fatalf("job ended %s", got.Job.State.StateType)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("job did not complete: %s", got.Job.State.StateType)
		case <-time.After(200 * time.Millisecond):
		}
	}
	// The gauges refresh every second.
	time.Sleep(1500 * time.Millisecond)

	exposed := map[string]bool{}
	for _, target := range []struct{ what, url string }{
		{"replica", c.Replicas[0].URL() + "/metrics"},
		{"compute node", "http://" + c.Computes[0].APIAddr + "/metrics"},
	} {
		body := scrape(t, ctx, target.url)
		out := run(t, ".", body, pt, "check", "metrics")
		if strings.TrimSpace(out) != "" {
			t.Errorf("promtool check metrics on the %s's /metrics:\n%s", target.what, out)
		}
		for _, line := range strings.Split(string(body), "\n") {
			if strings.HasPrefix(line, "# TYPE ") {
				name := strings.Fields(line)[2]
				if !strings.HasPrefix(name, "shoal_") {
					t.Errorf("%s exposes %s, without the shoal_ prefix", target.what, name)
				}
				exposed[name] = true
			}
		}
	}
	files := []string{filepath.Join(deployDir(t), "alerts.yml"),
		filepath.Join(deployDir(t), "..", "grafana", "shoal.json")}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Errorf("%s: %v", f, err)
			continue
		}
		for _, name := range seriesIn(t, f) {
			if !exposed[name] {
				t.Errorf("%s uses %s, which neither a replica nor a compute node exposes", filepath.Base(f), name)
			}
		}
	}
}

func scrape(t *testing.T, ctx context.Context, url string) []byte {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", url, resp.StatusCode, err)
	}
	return body
}
