package ui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/test/testcluster"
)

// checker asks the API (on the replica the browser uses) what the pages
// should show.
type checker struct {
	t   *testing.T
	ctx context.Context
	p   *testcluster.Process
}

func newChecker(t *testing.T, ctx context.Context, p *testcluster.Process) *checker {
	return &checker{t: t, ctx: ctx, p: p}
}

func (c *checker) get(path string, v any) {
	c.t.Helper()
	r, err := c.p.Get(c.ctx, path)
	if err != nil {
		c.t.Fatalf("GET %s: %v", path, err)
	}
	if r.Status != http.StatusOK {
		c.t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
	}
	if err := r.Decode(v); err != nil {
		c.t.Fatal(err)
	}
}

// submit creates a job from a JSON body written with one %s for its name.
func (c *checker) submit(name, bodyFmt string) string {
	c.t.Helper()
	return c.create(name, []byte(fmt.Sprintf(bodyFmt, name)))
}

// create sends a create with an idempotency key, again while the answer is
// a 503: on a loaded machine leadership can move mid-commit, and the key
// makes the retry safe.
func (c *checker) create(key string, body []byte) string {
	c.t.Helper()
	for attempt := 0; ; attempt++ {
		req, err := http.NewRequestWithContext(c.ctx, http.MethodPut, c.p.URL()+"/api/v1/orchestrator/jobs", bytes.NewReader(body))
		if err != nil {
			c.t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "ui-test-"+key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			c.t.Fatalf("create %s: %v", key, err)
		}
		data, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil && resp.StatusCode == http.StatusServiceUnavailable && attempt < 10 {
			time.Sleep(time.Second)
			continue
		}
		var put api.PutJobResponse
		if err != nil || resp.StatusCode != http.StatusOK || json.Unmarshal(data, &put) != nil {
			c.t.Fatalf("create %s: %v %d %s", key, err, resp.StatusCode, data)
		}
		return put.JobID
	}
}

// convert turns a YAML spec into a create body as the UI does.
func (c *checker) convert(spec string) []byte {
	c.t.Helper()
	r, err := c.p.Do(c.ctx, http.MethodPost, "/api/v1/ui/jobspec", []byte(spec))
	if err != nil || r.Status != http.StatusOK {
		c.t.Fatalf("convert a job spec: %v %+v", err, r)
	}
	return r.Body
}

func (c *checker) submitYAML(key, spec string) string {
	c.t.Helper()
	return c.create(key, c.convert(spec))
}

// refusal is the API's message for a spec it refuses.
func (c *checker) refusal(spec string) string {
	c.t.Helper()
	body := c.convert(spec)
	r, err := c.p.Do(c.ctx, http.MethodPut, "/api/v1/orchestrator/jobs", body)
	for attempt := 0; err == nil && r.Status == http.StatusServiceUnavailable && attempt < 10; attempt++ {
		time.Sleep(time.Second) // no leader for a moment on a loaded machine
		r, err = c.p.Do(c.ctx, http.MethodPut, "/api/v1/orchestrator/jobs", body)
	}
	if err != nil {
		c.t.Fatal(err)
	}
	var e api.APIError
	if r.Status != http.StatusBadRequest || r.Decode(&e) != nil || e.Message == "" {
		c.t.Fatalf("the API did not refuse the spec with a 400 and a message: %d %s", r.Status, r.Body)
	}
	return e.Message
}

var longID = regexp.MustCompile(`^([a-z]{1,2}-)([0-9a-f]{8})[0-9a-f-]{8,}$`)

// short is the UI's short form of an ID (upstream's).
func short(id string) string {
	if m := longID.FindStringSubmatch(id); m != nil {
		return m[1] + m[2]
	}
	return id
}

func (c *checker) count(expr string, b *browser) int {
	c.t.Helper()
	var n int
	b.run("evaluate", 5*time.Second, chromedp.Evaluate(expr, &n))
	return n
}

func (c *checker) strings(expr string, b *browser) []string {
	c.t.Helper()
	var out []string
	b.run("evaluate", 5*time.Second, chromedp.Evaluate(expr, &out))
	return out
}

// jobPage checks the job's page against GET /jobs/:id. The page refreshes
// every 1.5 s, so it is given a few seconds to catch up with the API.
func (c *checker) jobPage(b *browser, id, state string) {
	c.t.Helper()
	var problems []string
	for deadline := time.Now().Add(10 * time.Second); ; {
		problems = c.jobPageProblems(b, id, state)
		if len(problems) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, p := range problems {
		c.t.Error(p)
	}
}

func (c *checker) jobPageProblems(b *browser, id, state string) []string {
	var resp api.GetJobResponse
	c.get("/api/v1/orchestrator/jobs/"+id+"?include=executions,history", &resp)
	// The replica this reads from may be an apply behind the one the test
	// waited on, so a state not reached yet is retried like the page checks.
	if got := resp.Job.State.StateType.String(); got != state {
		return []string{fmt.Sprintf("the API says job %s is %s, want %s", id, got, state)}
	}
	var out []string
	if got := b.text("#job-state"); !strings.Contains(got, state) {
		out = append(out, fmt.Sprintf("the job's page shows state %q, the API %s", got, state))
	}
	if len(resp.Executions.Executions) == 0 {
		c.t.Fatalf("the API lists no executions for %s", id)
	}
	for _, e := range resp.Executions.Executions {
		rows := c.strings(fmt.Sprintf(`[...document.querySelectorAll('#view tr')].filter(tr => tr.querySelector('[data-id=%q]')).map(tr => tr.innerText)`, e.ID), b)
		if len(rows) == 0 {
			out = append(out, fmt.Sprintf("execution %s is not on the job's page", e.ID))
			continue
		}
		row := rows[0]
		for _, want := range []string{short(e.ID), short(e.NodeID), e.ComputeState.StateType.String()} {
			if !strings.Contains(row, want) {
				out = append(out, fmt.Sprintf("execution %s's row %q lacks %q", e.ID, row, want))
			}
		}
		if e.RunOutput != nil && !strings.Contains(row, fmt.Sprint(e.RunOutput.ExitCode)) {
			out = append(out, fmt.Sprintf("execution %s's row %q lacks exit code %d", e.ID, row, e.RunOutput.ExitCode))
		}
	}
	hist := b.text("#job-history")
	if n := strings.Count(hist, "→"); n != len(resp.History.History) {
		out = append(out, fmt.Sprintf("the timeline shows %d transitions, the API %d:\n%s", n, len(resp.History.History), hist))
	}
	return out
}

// overview checks the replicas, job counts and nodes against the API.
func (c *checker) overview(b *browser) {
	c.t.Helper()
	var raft api.RaftConfigurationResponse
	c.get("/api/v1/operator/raft", &raft)
	for _, s := range raft.Servers {
		role := c.strings(fmt.Sprintf(`[...document.querySelectorAll('#replicas tr')].filter(tr => tr.querySelector('[data-replica=%q]')).map(tr => tr.querySelector('[data-role]').dataset.role)`, s.ID), b)
		want := "Follower"
		if s.Leader {
			want = "Leader"
		}
		if len(role) != 1 || role[0] != want {
			c.t.Errorf("replica %s shows as %v, the API says %s", s.ID, role, want)
		}
	}
	var jobs api.ListJobsResponse
	c.get("/api/v1/orchestrator/jobs?limit=1000", &jobs)
	counts := map[string]int{}
	for _, j := range jobs.Jobs {
		counts[j.State.StateType.String()]++
	}
	for _, st := range []string{"Pending", "Running", "Completed", "Failed", "Stopped"} {
		// The page refreshes every two seconds; counts move as jobs finish.
		b.waitText(fmt.Sprintf(`#job-counts [data-state=%q] .n`, st), fmt.Sprint(counts[st]), 10*time.Second)
	}
	var nodes api.ListNodesResponse
	c.get("/api/v1/orchestrator/nodes?limit=100", &nodes)
	text := b.text("#overview-nodes")
	for _, n := range nodes.Nodes {
		if !strings.Contains(text, short(n.NodeID)) || !strings.Contains(text, n.Connection) {
			c.t.Errorf("the overview's nodes %q lack %s %s", text, n.NodeID, n.Connection)
		}
	}
	if agrees := c.count(`document.querySelectorAll('#replicas .badge.bad').length`, b); agrees != 0 {
		c.t.Errorf("the overview shows %d replicas unreachable or disagreeing:\n%s", agrees, b.text("#replicas"))
	}
}

// jobsList checks the first page of the jobs list (newest first) against
// the API's, and that it holds the given jobs.
func (c *checker) jobsList(b *browser, state string, must ...string) {
	c.t.Helper()
	var all api.ListJobsResponse
	c.get("/api/v1/orchestrator/jobs?limit=1000&reverse=true", &all)
	var want []string
	for _, j := range all.Jobs {
		if state == "" || j.State.StateType.String() == state {
			want = append(want, j.ID)
		}
	}
	want = want[:min(len(want), 20)]
	got := c.strings(`[...document.querySelectorAll('#jobs-table tbody tr')].map(tr => tr.querySelector('[data-id]').dataset.id)`, b)
	if !slices.Equal(got, want) {
		c.t.Errorf("the jobs page (state %q) lists %v, the API %v", state, got, want)
	}
	for _, id := range must {
		if !slices.Contains(got, id) {
			c.t.Errorf("job %s is not on the jobs page (state %q)", id, state)
		}
	}
}

// jobsPaging pages through the jobs list ten at a time with the Next button
// and checks each page against the API's own pages.
func (c *checker) jobsPaging(b *browser) {
	c.t.Helper()
	b.open("/ui/jobs?limit=10", "#jobs-table table")
	rows := `[...document.querySelectorAll('#jobs-table tbody tr')].map(tr => tr.querySelector('[data-id]').dataset.id)`
	token := ""
	for page := 1; ; page++ {
		var resp api.ListJobsResponse
		c.get("/api/v1/orchestrator/jobs?limit=10&reverse=true&next_token="+url.QueryEscape(token), &resp)
		var want []string
		for _, j := range resp.Jobs {
			want = append(want, j.ID)
		}
		var got []string
		for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(200 * time.Millisecond) {
			if got = c.strings(rows, b); slices.Equal(got, want) || time.Now().After(deadline) {
				break
			}
		}
		if !slices.Equal(got, want) {
			c.t.Fatalf("jobs page %d lists %v, the API's page %v", page, got, want)
		}
		if resp.NextToken == "" {
			return
		}
		token = resp.NextToken
		b.run("next page", 10*time.Second, chromedp.Click("#jobs-next", chromedp.ByQuery))
	}
}

func (c *checker) nodesList(b *browser) {
	c.t.Helper()
	var nodes api.ListNodesResponse
	c.get("/api/v1/orchestrator/nodes?limit=100", &nodes)
	text := b.text("#nodes-table")
	for _, n := range nodes.Nodes {
		for _, want := range append([]string{short(n.NodeID), n.Connection}, n.ComputeNodeInfo.ExecutionEngines...) {
			if !strings.Contains(text, want) {
				c.t.Errorf("the nodes page lacks %q for node %s:\n%s", want, n.NodeID, text)
			}
		}
	}
}

func (c *checker) nodePage(b *browser, id string, jobs ...string) {
	c.t.Helper()
	var resp api.GetNodeResponse
	c.get("/api/v1/orchestrator/nodes/"+id, &resp)
	if got := strings.TrimSpace(b.text("#node-id")); got != resp.Node.NodeID {
		c.t.Errorf("the node page shows %q, the API %q", got, resp.Node.NodeID)
	}
	info := b.text("#node-info")
	for _, e := range resp.Node.ComputeNodeInfo.ExecutionEngines {
		if !strings.Contains(info, e) {
			c.t.Errorf("the node page lacks engine %s", e)
		}
	}
	execs := b.text("#node-executions")
	for _, j := range jobs {
		if !strings.Contains(execs, short(j)) {
			c.t.Errorf("the node page's executions lack job %s:\n%s", j, execs)
		}
	}
}
