package testcluster

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Process is one shoal process the test controls.
type Process struct {
	ID         string
	Role       string // "orchestrator" or "compute"
	APIAddr    string
	RaftAddr   string
	GossipAddr string
	DataDir    string
	Args       []string
	LogPath    string
	// TLS, when set, makes URL https and Do use its client.
	TLS *TLS
	// Token, when set, is sent as "Authorization: Bearer" by Do (clusters
	// started with --acl).
	Token string

	bin string
	mu  sync.Mutex
	cmd *exec.Cmd
	log *os.File
	// exited is closed once the running process has been reaped; reading
	// cmd.ProcessState instead would race with cmd.Wait.
	exited chan struct{}
}

// Start runs the process (again, after Kill or Stop, with the same data).
func (p *Process) Start() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return fmt.Errorf("%s already running", p.ID)
	}
	f, err := os.OpenFile(p.LogPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	fmt.Fprintf(f, "\n===== start %s %v =====\n", time.Now().Format(time.RFC3339Nano), p.Args)
	cmd := exec.Command(p.bin, p.Args...)
	cmd.Stdout, cmd.Stderr = f, f
	// Own process group, so a kill reaches only this process.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start %s: %w", p.ID, err)
	}
	exited := make(chan struct{})
	p.cmd, p.log, p.exited = cmd, f, exited
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(exited)
	}()
	return nil
}

// Running reports whether the process was started and not killed or stopped.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cmd != nil
}

// Pid is the running process's ID (0 when it is not running).
func (p *Process) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() { p.signalAndWait(syscall.SIGKILL) }

// Stop sends SIGTERM and waits for a clean exit (SIGKILL after 15s).
func (p *Process) Stop() { p.signalAndWait(syscall.SIGTERM) }

func (p *Process) signalAndWait(sig syscall.Signal) {
	p.mu.Lock()
	cmd, exited := p.cmd, p.exited
	p.cmd = nil
	p.mu.Unlock()
	if cmd == nil || cmd.Process == nil {
		return
	}
	_ = cmd.Process.Signal(syscall.SIGCONT) // a paused process cannot exit
	_ = cmd.Process.Signal(sig)
	select {
	case <-exited:
		return
	case <-time.After(15 * time.Second):
	}
	_ = cmd.Process.Kill()
	select {
	case <-exited:
	case <-time.After(5 * time.Second):
	}
}

// Pause freezes the process (SIGSTOP); Resume thaws it (SIGCONT).
func (p *Process) Pause() error  { return p.signal(syscall.SIGSTOP) }
func (p *Process) Resume() error { return p.signal(syscall.SIGCONT) }

func (p *Process) signal(sig syscall.Signal) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return fmt.Errorf("%s is not running", p.ID)
	}
	return p.cmd.Process.Signal(sig)
}

// URL is the base URL of the process's API.
func (p *Process) URL() string {
	if p.TLS != nil {
		return "https://" + p.APIAddr
	}
	return "http://" + p.APIAddr
}

// Response is an HTTP answer with its body already read.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Index is the X-Shoal-Index of the answer.
func (r *Response) Index() uint64 {
	n, _ := strconv.ParseUint(r.Header.Get("X-Shoal-Index"), 10, 64)
	return n
}

// Decode unmarshals the body.
func (r *Response) Decode(v any) error {
	if err := json.Unmarshal(r.Body, v); err != nil {
		return fmt.Errorf("decode %d answer %q: %w", r.Status, truncate(r.Body), err)
	}
	return nil
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

// Do sends a request to the process's API. body may be nil, []byte, or a
// value to encode as JSON.
func (p *Process) Do(ctx context.Context, method, path string, body any) (*Response, error) {
	return p.DoAs(ctx, p.Token, method, path, body)
}

// DoAs is Do sending token (none when empty) instead of p.Token.
func (p *Process) DoAs(ctx context.Context, token, method, path string, body any) (*Response, error) {
	hc := httpClient
	if p.TLS != nil {
		hc = p.TLS.Client
	}
	return p.do(ctx, hc, token, method, path, body)
}

// getAsReplica is Get as another replica would ask: with TLS, presenting a
// server.shoal certificate (the replicas' internal routes want one).
func (p *Process) getAsReplica(ctx context.Context, path string) (*Response, error) {
	hc := httpClient
	if p.TLS != nil {
		hc = p.TLS.Peer
	}
	return p.do(ctx, hc, "", http.MethodGet, path, nil)
}

func (p *Process) do(ctx context.Context, hc *http.Client, token, method, path string, body any) (*Response, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequestWithContext(ctx, method, p.URL()+path, rd)
	if err != nil {
		return nil, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// Get is Do with GET.
func (p *Process) Get(ctx context.Context, path string) (*Response, error) {
	return p.Do(ctx, http.MethodGet, path, nil)
}

func truncate(b []byte) string {
	if len(b) > 300 {
		return string(b[:300]) + "…"
	}
	return string(b)
}

// freePorts reserves n distinct loopback ports. The listeners are closed
// before use, so another process could grab one in between; loopback test
// ports rarely collide.
func freePorts(n int) ([]int, error) {
	var ls []net.Listener
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, 0, n)
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		ls = append(ls, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// PID is the running process's ID, or 0 when it is not running.
func (p *Process) PID() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil {
		return 0
	}
	return p.cmd.Process.Pid
}

// JobIDsAt lists up to limit job IDs on p once its state has reached index
// (a blocking read of at most 10 s).
func (p *Process) JobIDsAt(ctx context.Context, index uint64, limit int) ([]string, error) {
	r, err := p.Get(ctx, fmt.Sprintf("/api/v1/orchestrator/jobs?limit=%d&index=%d&wait=10s", limit, index))
	if err != nil {
		return nil, fmt.Errorf("list jobs on %s: %w", p.ID, err)
	}
	if r.Status != http.StatusOK {
		return nil, fmt.Errorf("list jobs on %s: %d %s", p.ID, r.Status, truncate(r.Body))
	}
	var list api.ListJobsResponse
	if err := r.Decode(&list); err != nil {
		return nil, err
	}
	ids := make([]string, len(list.Jobs))
	for i, j := range list.Jobs {
		ids[i] = j.ID
	}
	return ids, nil
}
