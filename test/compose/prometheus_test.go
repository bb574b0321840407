package compose_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The demo's Prometheus (the prometheus service of deploy/docker-compose.yml)
// is checked against the live cluster: every alert expression of
// deploy/prometheus/alerts.yml and every panel expression of
// deploy/grafana/shoal.json parses and has data, and losing the leader
// fires a leader alert that then resolves.

// leaderAlert is a test-only copy of ShoalLeaderChangesTooOften with a
// one-minute window, any change counting and no for:, so that one leader
// loss fires it within seconds and it resolves a minute later.
const leaderAlert = "ShoalLeaderChangedComposeTest"

// promImage returns whether the Prometheus image can be built here (Debian's
// prometheus package); without it the compose test is skipped, unless
// SHOAL_REQUIRE_PROMTOOL=1 (CI) makes that a failure.
func requirePrometheus(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("prometheus"); err != nil {
		if os.Getenv("SHOAL_REQUIRE_PROMTOOL") == "1" {
			t.Fatal("the compose demo's Prometheus image is built from Debian's prometheus package: apt-get install prometheus")
		}
		t.Skip("SKIPPING COMPOSE TEST: the demo's Prometheus image is built from Debian's prometheus package (apt-get install prometheus)")
	}
}

// writeTestRules puts the fast leader rule where the demo's Prometheus loads
// extra rule files (SHOAL_DEMO_DATA/prometheus-rules).
func writeTestRules(t *testing.T, root, dataDir string) {
	t.Helper()
	exprs := alertExprs(t, filepath.Join(root, "deploy", "prometheus", "alerts.yml"))
	expr := exprs["ShoalLeaderChangesTooOften"]
	fast := strings.Replace(strings.Replace(expr, "[15m]", "[1m]", 1), "> 3", "> 0", 1)
	if fast == expr || !strings.Contains(fast, "[1m]") || !strings.HasSuffix(fast, "> 0") {
		t.Fatalf("ShoalLeaderChangesTooOften is %q: update the compose test's fast copy of it", expr)
	}
	dir := filepath.Join(dataDir, "prometheus-rules")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	rules := fmt.Sprintf("groups:\n  - name: compose-test\n    rules:\n      - alert: %s\n        expr: %q\n", leaderAlert, fast)
	if err := os.WriteFile(filepath.Join(dir, "compose-test.yml"), []byte(rules), 0o644); err != nil {
		t.Fatal(err)
	}
}

// alertExprs reads the rules file's alert names and expressions. The file
// is YAML; a small reader of its two shapes (one line, or a | block) keeps
// the test free of a YAML dependency.
func alertExprs(t *testing.T, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	lines := strings.Split(string(b), "\n")
	alertRe := regexp.MustCompile(`^\s+- alert: (\w+)`)
	exprRe := regexp.MustCompile(`^(\s+)expr: (.*)$`)
	var name string
	for i := 0; i < len(lines); i++ {
		if m := alertRe.FindStringSubmatch(lines[i]); m != nil {
			name = m[1]
			continue
		}
		m := exprRe.FindStringSubmatch(lines[i])
		if m == nil || name == "" {
			continue
		}
		if m[2] != "|" {
			out[name] = strings.TrimSpace(m[2])
			continue
		}
		var block []string
		for i+1 < len(lines) && (strings.TrimSpace(lines[i+1]) == "" || len(lines[i+1])-len(strings.TrimLeft(lines[i+1], " ")) > len(m[1])) {
			i++
			block = append(block, strings.TrimSpace(lines[i]))
		}
		out[name] = strings.TrimSpace(strings.Join(block, " "))
	}
	if len(out) == 0 {
		t.Fatalf("no alert expressions in %s", path)
	}
	return out
}

// dashboardExprs returns every panel's expressions, by panel title.
func dashboardExprs(t *testing.T, path string) map[string][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Title   string `json:"title"`
			Type    string `json:"type"`
			Targets []struct {
				Expr string `json:"expr"`
			} `json:"targets"`
		} `json:"panels"`
	}
	if err := json.Unmarshal(b, &d); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	out := map[string][]string{}
	for _, p := range d.Panels {
		if p.Type == "row" {
			continue
		}
		if len(p.Targets) == 0 {
			t.Errorf("dashboard panel %q has no query", p.Title)
		}
		for _, tg := range p.Targets {
			out[p.Title] = append(out[p.Title], tg.Expr)
		}
	}
	return out
}

type promResult struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query on the demo's Prometheus.
func (c *composeCluster) query(ctx context.Context, expr string) ([]promResult, error) {
	u := fmt.Sprintf("http://127.0.0.1:%d/api/v1/query?query=%s", c.promPort, url.QueryEscape(expr))
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	var r struct {
		Status string `json:"status"`
		Error  string `json:"error"`
		Data   struct {
			ResultType string       `json:"resultType"`
			Result     []promResult `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return nil, fmt.Errorf("query %s: %d %s", expr, resp.StatusCode, body)
	}
	if r.Status != "success" {
		return nil, fmt.Errorf("query %s: %s", expr, r.Error)
	}
	if r.Data.ResultType != "vector" {
		return nil, fmt.Errorf("query %s: a %s, want a vector", expr, r.Data.ResultType)
	}
	return r.Data.Result, nil
}

var seriesName = regexp.MustCompile(`\b(shoal_[a-z0-9_]+|up)\b`)

// checkPrometheus checks, with the cluster under load, that every target
// is scraped, every alert expression evaluates and every series it reads
// has data, and every dashboard panel's expression has data. Data can lag
// a scrape or two, so it retries for a while.
func (c *composeCluster) checkPrometheus(t *testing.T) {
	t.Helper()
	alerts := alertExprs(t, filepath.Join(c.root, "deploy", "prometheus", "alerts.yml"))
	panels := dashboardExprs(t, filepath.Join(c.root, "deploy", "grafana", "shoal.json"))
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	var problems []string
	for {
		problems = problems[:0]
		if up, err := c.query(ctx, `count(up{job=~"shoal-replicas|shoal-compute"} == 1)`); err != nil || len(up) != 1 || up[0].Value[1] != "6" {
			problems = append(problems, fmt.Sprintf("not every target is up: %v %v", up, err))
		}
		for name, expr := range alerts {
			if _, err := c.query(ctx, expr); err != nil {
				problems = append(problems, fmt.Sprintf("alert %s: %v", name, err))
			}
			for _, s := range seriesName.FindAllString(expr, -1) {
				if res, err := c.query(ctx, "count({__name__=~\""+s+"(_bucket)?\"})"); err != nil || len(res) == 0 {
					problems = append(problems, fmt.Sprintf("alert %s reads %s, which has no data (%v)", name, s, err))
				}
			}
		}
		for title, exprs := range panels {
			for _, expr := range exprs {
				if res, err := c.query(ctx, expr); err != nil || len(res) == 0 {
					problems = append(problems, fmt.Sprintf("panel %q: %s returns no data (%v)", title, expr, err))
				}
			}
		}
		if len(problems) == 0 {
			t.Logf("Prometheus: %d alert expressions and %d dashboard panels have data", len(alerts), len(panels))
			return
		}
		if sleep(ctx, 5*time.Second) != nil {
			t.Fatalf("Prometheus checks still failing:\n  %s", strings.Join(problems, "\n  "))
		}
	}
}

// alertState returns "firing", "pending" or "" for an alert.
func (c *composeCluster) alertState(ctx context.Context, name string) (string, error) {
	res, err := c.query(ctx, `ALERTS{alertname="`+name+`"}`)
	if err != nil {
		return "", err
	}
	state := ""
	for _, r := range res {
		if r.Metric["alertstate"] == "firing" || state == "" {
			state = r.Metric["alertstate"]
		}
	}
	return state, nil
}

// waitAlert waits until the alert is firing (firing=true) or gone.
func (c *composeCluster) waitAlert(t *testing.T, name string, firing bool, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	defer cancel()
	start := time.Now()
	for {
		state, err := c.alertState(ctx, name)
		if err == nil && (state == "firing") == firing && (firing || state == "") {
			t.Logf("alert %s %s after %v", name, map[bool]string{true: "fired", false: "is inactive"}[firing], time.Since(start).Round(time.Second))
			return
		}
		if sleep(ctx, 2*time.Second) != nil {
			t.Fatalf("alert %s: still %q (firing wanted: %v) after %v (%v)", name, state, firing, timeout, err)
		}
	}
}
