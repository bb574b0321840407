package ui_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// aclProxy stands in front of a replica and enforces the ACL contract the
// UI relies on: every API call needs "Authorization: Bearer <secret>" (a
// websocket may carry access_token instead) or gets 401 Unauthenticated;
// GET /api/v1/acl/token/self names the token's role; a read token may only
// GET. It tests the UI's side of ACLs whether or not the replica has them.
type aclProxy struct {
	proxy  *httputil.ReverseProxy
	secret string
	role   string

	bearer, wsToken, refused atomic.Int64
}

func (p *aclProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		ok := false
		switch {
		case r.Header.Get("Authorization") == "Bearer "+p.secret:
			ok = true
			p.bearer.Add(1)
		case strings.EqualFold(r.Header.Get("Upgrade"), "websocket") && r.URL.Query().Get("access_token") == p.secret:
			ok = true
			p.wsToken.Add(1)
		}
		if !ok {
			p.refused.Add(1)
			writeErr(w, http.StatusUnauthorized, "Unauthenticated", "this request needs an ACL token")
			return
		}
		if r.URL.Path == "/api/v1/acl/token/self" {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"AccessorID": "a-ui", "Name": "ui-test", "Role": p.role})
			return
		}
		if p.role == "read" && r.Method != http.MethodGet {
			writeErr(w, http.StatusForbidden, "PermissionDenied", "this request needs the submit role")
			return
		}
	}
	p.proxy.ServeHTTP(w, r)
}

func writeErr(w http.ResponseWriter, status int, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"Status": status, "Code": code, "Message": msg, "Component": "ACL"})
}

// checkACL signs in with a read token through the proxy, in a fresh tab:
// the UI asks for the token, keeps it in sessionStorage only, sends it on
// every call and the logs websocket, and hides what a read token cannot do.
func checkACL(t *testing.T, parent *browser, replica, jobID, shots string) {
	target, err := url.Parse(replica)
	if err != nil {
		t.Fatal(err)
	}
	p := &aclProxy{proxy: httputil.NewSingleHostReverseProxy(target), secret: "s3cr3t-read-token", role: "read"}
	srv := httptest.NewServer(p)
	defer srv.Close()
	b := parent.newTab(srv.URL)

	b.run("open a job page without a token", 30*time.Second,
		chromedp.Navigate(b.base+"/ui/jobs/"+jobID),
		chromedp.WaitVisible("#login-token", chromedp.ByQuery))
	b.shoot(shots, "signin-desktop", 1400, 900)
	b.run("sign in", 20*time.Second,
		chromedp.SetValue("#login-token", p.secret, chromedp.ByQuery),
		chromedp.Click("#login-form button[type=submit]", chromedp.ByQuery),
		chromedp.WaitVisible("#job-id", chromedp.ByQuery))
	b.waitText("#job-state", "Completed", 20*time.Second)
	b.waitText("#job-logs", "hello from the shoal ui test", 20*time.Second)
	b.waitText("#whoami", "token: read", 20*time.Second)

	var got struct {
		Session string `json:"session"`
		Local   int    `json:"local"`
		Cookie  string `json:"cookie"`
	}
	b.run("read the page's storage", 5*time.Second, chromedp.Evaluate(`({
		session: sessionStorage.getItem("shoal.token"), local: localStorage.length, cookie: document.cookie})`, &got))
	if got.Session != p.secret || got.Local != 0 || got.Cookie != "" {
		t.Errorf("the token is kept as sessionStorage %q, localStorage has %d items, cookies %q: want it in sessionStorage only", got.Session, got.Local, got.Cookie)
	}
	// What a read token cannot do is hidden; the same page without ACLs
	// (the parent tab) shows it.
	submitShown := `!document.querySelector("#nav a[data-nav=submit]").hidden && [...document.querySelectorAll("main a")].some(a => a.textContent === "Submit a job")`
	var shown, shownWithoutACL bool
	b.open("/ui/jobs", "#jobs-table table")
	b.waitText("#whoami", "token: read", 10*time.Second)
	b.run("look for submit", 5*time.Second, chromedp.Evaluate(submitShown, &shown))
	parent.open("/ui/jobs", "#jobs-table table")
	parent.run("look for submit", 5*time.Second, chromedp.Evaluate(submitShown, &shownWithoutACL))
	if shown || !shownWithoutACL {
		t.Errorf("submit actions shown to a read token: %v, without ACLs: %v; want false, true", shown, shownWithoutACL)
	}
	b.open("/ui/submit", "main h1")
	if text := b.text("main"); !strings.Contains(text, "cannot submit") {
		t.Errorf("the submit page for a read token shows:\n%s", text)
	}
	b.open("/ui/", "#replicas table")
	if p.bearer.Load() == 0 || p.wsToken.Load() == 0 {
		t.Errorf("calls with the bearer token: %d, websockets with access_token: %d; want both", p.bearer.Load(), p.wsToken.Load())
	}
	b.takeErrors() // the 401s before sign-in are expected
}
