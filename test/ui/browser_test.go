// Package ui_test drives the web UI in a real, headless Chromium (through
// chromedp) against a three-replica loopback cluster with a compute node,
// the browser pointed at a follower. It opens every page by its URL, submits
// a job through the form, reads its logs, stops a long-running job, checks
// what the pages show against the API's own answers, and saves screenshots
// of each page at desktop and phone size.
package ui_test

import (
	"context"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	"github.com/shoal-io/shoal/test/testcluster"
)

// findChromium returns the browser to drive: $SHOAL_CHROMIUM, else the
// first of the usual names on PATH.
func findChromium() string {
	if p := os.Getenv("SHOAL_CHROMIUM"); p != "" {
		return p
	}
	for _, n := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is $SHOAL_UI_SCREENSHOTS, or a new temporary folder that is
// kept after the test so a person (or CI) can look at the pictures.
func screenshotDir(t *testing.T) string {
	dir := os.Getenv("SHOAL_UI_SCREENSHOTS")
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "shoal-ui-screenshots-"); err != nil {
			t.Fatal(err)
		}
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	fmt.Printf("UI screenshots: %s\n", dir)
	t.Logf("UI screenshots: %s", dir)
	return dir
}

// browser is one headless Chromium tab, collecting the page's errors.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu     sync.Mutex
	errors []string
}

func newBrowser(t *testing.T, chrome, base string) *browser {
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chrome),
		chromedp.NoSandbox,
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.WindowSize(1400, 900),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	// chromedp logs protocol events it has no handler for (such as a
	// dialog entering the top layer); they say nothing about the page.
	quiet := chromedp.WithErrorf(func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "unhandled node event") {
			t.Logf("chromedp: %s", msg)
		}
	})
	return openTab(t, allocCtx, base, quiet)
}

// newTab opens another tab of the same browser on another base URL; its
// sessionStorage starts empty.
func (b *browser) newTab(base string) *browser { return openTab(b.t, b.ctx, base) }

func openTab(t *testing.T, parent context.Context, base string, opts ...chromedp.ContextOption) *browser {
	ctx, cancelCtx := chromedp.NewContext(parent, opts...)
	t.Cleanup(cancelCtx)
	b := &browser{t: t, ctx: ctx, base: base}
	chromedp.ListenTarget(ctx, func(ev any) {
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			b.addError("exception: " + e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var parts []string
				for _, a := range e.Args {
					parts = append(parts, string(a.Value)+a.Description)
				}
				b.addError("console.error: " + strings.Join(parts, " "))
			}
		case *log.EventEntryAdded:
			// Failed loads are the API's 4xx answers, which the pages
			// show themselves (a refused spec, no ACL endpoint).
			if e.Entry.Level == log.LevelError && e.Entry.Source != log.SourceNetwork {
				b.addError(fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	if err := chromedp.Run(ctx, log.Enable()); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	return b
}

func (b *browser) addError(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errors = append(b.errors, s)
}

// takeErrors returns and forgets the errors the pages reported.
func (b *browser) takeErrors() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.errors
	b.errors = nil
	return out
}

// run runs actions with a bound, failing the test with what the page shows.
func (b *browser) run(what string, timeout time.Duration, actions ...chromedp.Action) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, timeout)
	defer cancel()
	if err := chromedp.Run(ctx, actions...); err != nil {
		b.t.Fatalf("%s: %v\npage text:\n%s", what, err, b.text("body"))
	}
}

// open loads a page by its URL, as a fresh visitor would, and waits for the
// element that says the view has drawn its data.
func (b *browser) open(path, ready string) {
	b.t.Helper()
	b.run("open "+path, 30*time.Second, chromedp.Navigate(b.base+path), chromedp.WaitVisible(ready, chromedp.ByQuery))
}

// text is the rendered text of the first element matching sel.
func (b *browser) text(sel string) string {
	var s string
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	_ = chromedp.Run(ctx, chromedp.Evaluate(fmt.Sprintf(`(document.querySelector(%q) || {innerText: ""}).innerText`, sel), &s))
	return s
}

// waitText waits until the element's text holds want.
func (b *browser) waitText(sel, want string, timeout time.Duration) string {
	b.t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		got := b.text(sel)
		if strings.Contains(got, want) {
			return got
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("%s never showed %q within %v; it shows:\n%s", sel, want, timeout, got)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// shoot saves a full-page screenshot at the given window size.
func (b *browser) shoot(dir, name string, width, height int64) {
	b.t.Helper()
	var png []byte
	b.run("screenshot "+name, 20*time.Second,
		chromedp.EmulateViewport(width, height),
		chromedp.Sleep(400*time.Millisecond), // let the layout settle at the new width
		chromedp.FullScreenshot(&png, 100))
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func wasmSpec(name, text string, loop bool) string {
	mod := base64.StdEncoding.EncodeToString(wasiModule(text, loop, 500_000_000))
	return fmt.Sprintf(`Name: %s
Type: batch
Count: 1
Labels: {suite: ui, kind: %s}
Tasks:
  - Name: main
    Engine:
      Type: wasm
      Params:
        EntryModule:
          Source: {Type: inline, Params: {URL: "data:application/wasm;base64,%s"}}
    Publisher: {Type: local}
    Resources: {CPU: 100m, Memory: 32mb}
`, name, name, mod)
}

func TestBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a cluster and a browser")
	}
	chrome := findChromium()
	if chrome == "" {
		t.Skip("no Chromium found (apt-get install chromium, or set SHOAL_CHROMIUM): the browser test needs one")
	}
	c := testcluster.Start(t, testcluster.Options{Replicas: 3, ComputeNodes: 1, ComputeArgs: []string{"--engines", "wasm,noop"}})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	leader, err := c.WaitLeader(ctx)
	if err != nil {
		t.Fatal(err)
	}
	follower := c.Followers(leader)[0]
	t.Logf("leader %s, browser on follower %s at %s", leader.ID, follower.ID, follower.URL())
	shots := screenshotDir(t)
	b := newBrowser(t, chrome, follower.URL())
	check := newChecker(t, ctx, follower)

	// A few creates through the follower, so the live charts have data.
	for i := range 12 {
		check.submit(fmt.Sprintf("chart-%d", i), `{"Job": {"Name": "%s", "Type": "batch", "Count": 1, "Labels": {"suite": "ui"}, "Tasks": [{"Name": "main", "Engine": {"Type": "noop"}}]}}`)
	}

	// Submit: a spec the API refuses shows the API's message beside it.
	bad := "Type: batch\nCount: 1\nTasks: []\n"
	apiMsg := check.refusal(bad)
	b.open("/ui/submit", "#spec")
	b.run("submit a bad spec", 20*time.Second,
		chromedp.SetValue("#spec", bad, chromedp.ByQuery),
		chromedp.Click("#submit-job", chromedp.ByQuery))
	b.waitText("#submit-result", apiMsg, 10*time.Second)
	b.shoot(shots, "submit-error-desktop", 1400, 900)
	b.shoot(shots, "submit-error-phone", 390, 844)
	b.run("back to desktop", 10*time.Second, chromedp.EmulateViewport(1400, 900))

	// Submit a job that prints and completes; its page opens.
	b.run("submit a good spec", 20*time.Second,
		chromedp.SetValue("#spec", wasmSpec("hello", "hello from the shoal ui test\nsecond line\n", false), chromedp.ByQuery),
		chromedp.Click("#submit-job", chromedp.ByQuery),
		chromedp.WaitVisible("#job-id", chromedp.ByQuery))
	helloID := strings.TrimSpace(b.text("#job-id"))
	if !strings.HasPrefix(helloID, "j-") {
		t.Fatalf("after submit the page shows job ID %q", helloID)
	}
	var loc string
	b.run("read location", 5*time.Second, chromedp.Location(&loc))
	if !strings.HasSuffix(loc, "/ui/jobs/"+helloID) {
		t.Fatalf("after submit the browser is at %s, want the job's page", loc)
	}
	b.waitText("#job-state", "Completed", 60*time.Second)
	b.waitText("#job-logs", "hello from the shoal ui test", 20*time.Second)
	b.waitText("#job-logs", "second line", 5*time.Second)
	check.jobPage(b, helloID, "Completed")
	if !strings.Contains(b.text("#job-spec"), "Type: wasm") {
		t.Errorf("the spec panel does not show the job's YAML: %s", b.text("#job-spec"))
	}
	if n := check.count(`document.querySelectorAll("a.download").length`, b); n != 1 {
		t.Errorf("%d result download links, want 1", n)
	}

	// A long-running job: its logs stream live, and Stop stops it.
	tickID := check.submitYAML("ticker", wasmSpec("ticker", "tick\n", true))
	b.open("/ui/jobs/"+tickID, "#job-id")
	b.waitText("#job-state", "Running", 60*time.Second)
	b.waitText("#job-logs", "tick", 30*time.Second)
	first := strings.Count(b.text("#job-logs"), "tick")
	time.Sleep(1500 * time.Millisecond)
	if later := strings.Count(b.text("#job-logs"), "tick"); later <= first {
		t.Errorf("the logs did not grow live: %d ticks, then %d", first, later)
	}
	b.shoot(shots, "job-running-desktop", 1400, 900)
	b.run("stop the job", 20*time.Second,
		chromedp.Click("#stop-job", chromedp.ByQuery),
		chromedp.Click("#confirm-stop", chromedp.ByQuery))
	b.waitText("#job-state", "Stopped", 30*time.Second)
	check.jobPage(b, tickID, "Stopped")

	// Every page by its URL, checked against the API.
	b.open("/ui/", "#replicas table")
	check.overview(b)
	b.open("/ui/jobs", "#jobs-table table")
	check.jobsList(b, "", helloID, tickID)
	b.open("/ui/jobs?state=Stopped", "#jobs-table table")
	check.jobsList(b, "Stopped", tickID)
	check.jobsPaging(b)
	b.open("/ui/nodes", "#nodes-table table")
	check.nodesList(b)
	b.open("/ui/nodes/c1", "#node-executions table")
	check.nodePage(b, "c1", helloID, tickID)
	b.open("/ui/nosuch", "main h1")

	// Screenshots of each page at both sizes, each page loaded fresh.
	pages := []struct{ name, path, ready string }{
		{"overview", "/ui/", "#replicas table"},
		{"jobs", "/ui/jobs", "#jobs-table table"},
		{"job-completed", "/ui/jobs/" + helloID, "#job-logs span"},
		{"job-stopped", "/ui/jobs/" + tickID, "#job-history"},
		{"nodes", "/ui/nodes", "#nodes-table table"},
		{"node", "/ui/nodes/c1", "#node-executions table"},
		{"submit", "/ui/submit", "#spec"},
	}
	for _, size := range []struct {
		name string
		w, h int64
	}{{"desktop", 1400, 900}, {"phone", 390, 844}} {
		for _, p := range pages {
			b.run("size "+size.name, 10*time.Second, chromedp.EmulateViewport(size.w, size.h))
			b.open(p.path, p.ready)
			time.Sleep(300 * time.Millisecond)
			b.shoot(shots, p.name+"-"+size.name, size.w, size.h)
		}
	}
	checkACL(t, b, follower.URL(), helloID, shots)

	for _, e := range b.takeErrors() {
		t.Errorf("the page reported an error: %s", e)
	}
	if _, err := c.WaitDigestsEqual(ctx); err != nil {
		t.Errorf("replicas disagree after the UI's writes: %v", err)
	}
}
