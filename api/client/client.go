package client

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/shoal-io/shoal/api"
)

// DefaultTimeout bounds one attempt of a request on one host when
// WithTimeout is not given. Blocking queries get their wait on top.
const DefaultTimeout = 30 * time.Second

// defaultUserAgent names the client in server logs.
const defaultUserAgent = "shoal-go-client"

// Client talks to Shoal's HTTP API. It is safe for concurrent use.
type Client struct {
	httpClient *http.Client
	hosts      []string
	hostsFunc  func() []string
	token      string
	userAgent  string
	header     http.Header
	timeout    time.Duration

	mu      sync.Mutex
	current string // the host that last answered
}

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests through hc (for TLS
// settings or a test transport). A blocking query that waits longer than
// hc.Timeout runs on a copy with a longer Timeout.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.httpClient = hc
		}
	}
}

// WithHostsFunc gives a list of hosts that changes over time (for example
// the replicas gossip knows of). It is read before each request; when it
// returns nothing usable the hosts given to New are used.
func WithHostsFunc(f func() []string) Option {
	return func(c *Client) { c.hostsFunc = f }
}

// WithToken sends "Authorization: Bearer <token>" with every request.
func WithToken(token string) Option {
	return func(c *Client) { c.token = token }
}

// WithUserAgent sets the User-Agent header.
func WithUserAgent(ua string) Option {
	return func(c *Client) { c.userAgent = ua }
}

// WithTimeout bounds each attempt of a request on one host (DefaultTimeout
// otherwise; 0 leaves only the caller's context). Blocking queries get their
// wait on top, and snapshot transfers are bounded by the context alone.
func WithTimeout(d time.Duration) Option {
	return func(c *Client) { c.timeout = d }
}

// WithHeader adds a header to every request.
func WithHeader(key, value string) Option {
	return func(c *Client) { c.header.Add(key, value) }
}

// New builds a client for one or more base URLs ("http://127.0.0.1:1234"; a
// bare "host:port" gets http://, and 0.0.0.0 becomes 127.0.0.1 as a listen
// address is not a destination). Requests go to the host that last answered;
// when it cannot be reached (or answers 503 with Code NoLeader or
// ServiceUnavailable) the client tries the next one, in turn, so a CLI rides
// over a dead replica.
func New(hosts []string, opts ...Option) (*Client, error) {
	c := &Client{
		timeout:   DefaultTimeout,
		userAgent: defaultUserAgent,
		header:    http.Header{},
	}
	for _, h := range hosts {
		base, err := NormalizeHost(h)
		if err != nil {
			return nil, err
		}
		c.hosts = append(c.hosts, base)
	}
	for _, opt := range opts {
		opt(c)
	}
	if len(c.hosts) == 0 && c.hostsFunc == nil {
		return nil, api.BadRequestf("no API host given")
	}
	if c.httpClient == nil {
		c.httpClient = defaultHTTPClient()
	}
	return c, nil
}

// defaultHTTPClient has its own transport (no state shared with other users
// of http.DefaultTransport), a short dial timeout so that an unreachable host
// is skipped quickly, and room for many concurrent requests to each replica.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.MaxIdleConnsPerHost = 64
	return &http.Client{Transport: t}
}

// NormalizeHost turns what a user typed ("host:port", "http://host:port/")
// into a base URL without a trailing slash.
func NormalizeHost(h string) (string, error) {
	h = strings.TrimSpace(h)
	if h == "" {
		return "", api.BadRequestf("empty API host")
	}
	if !strings.Contains(h, "://") {
		h = "http://" + h
	}
	u, err := url.Parse(h)
	if err != nil {
		return "", api.BadRequestf("invalid API host %q: %v", h, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", api.BadRequestf("invalid API host %q: scheme must be http or https", h)
	}
	if u.Host == "" || u.Hostname() == "" {
		return "", api.BadRequestf("invalid API host %q: missing host name", h)
	}
	if u.Hostname() == "0.0.0.0" || u.Hostname() == "::" {
		loopback := "127.0.0.1"
		if u.Hostname() == "::" {
			loopback = "[::1]"
		}
		if port := u.Port(); port != "" {
			u.Host = loopback + ":" + port
		} else {
			u.Host = loopback
		}
	}
	u.RawQuery, u.Fragment = "", ""
	return strings.TrimRight(u.String(), "/"), nil
}

// candidates lists the hosts to try for one request: the current one first,
// then the others in list order, wrapping around.
func (c *Client) candidates() []string {
	hosts := c.hosts
	if c.hostsFunc != nil {
		var dynamic []string
		for _, h := range c.hostsFunc() {
			if base, err := NormalizeHost(h); err == nil {
				dynamic = append(dynamic, base)
			}
		}
		if len(dynamic) > 0 {
			hosts = dynamic
		}
	}
	c.mu.Lock()
	current := c.current
	c.mu.Unlock()
	start := 0
	for i, h := range hosts {
		if h == current {
			start = i
			break
		}
	}
	out := make([]string, 0, len(hosts))
	out = append(out, hosts[start:]...)
	return append(out, hosts[:start]...)
}

func (c *Client) setCurrent(host string) {
	c.mu.Lock()
	c.current = host
	c.mu.Unlock()
}

// Meta describes an answer: the state index it reflects (the X-Shoal-Index
// header; 0 when absent), the host that gave it, and its request ID.
type Meta struct {
	Index     uint64
	Host      string
	RequestID string
}

// Jobs is the jobs API.
func (c *Client) Jobs() *JobsAPI { return &JobsAPI{c: c} }

// Nodes is the nodes API.
func (c *Client) Nodes() *NodesAPI { return &NodesAPI{c: c} }

// Agent is the agent API of the replica that answers.
func (c *Client) Agent() *AgentAPI { return &AgentAPI{c: c} }

// Operator is the cluster operator API.
func (c *Client) Operator() *OperatorAPI { return &OperatorAPI{c: c} }

// Compute is the API compute nodes use.
func (c *Client) Compute() *ComputeAPI { return &ComputeAPI{c: c} }

// escapeID puts an ID into a URL path, refusing an empty one: it would turn
// "get job X" into "list jobs".
func escapeID(kind, id string) (string, error) {
	if strings.TrimSpace(id) == "" {
		return "", api.BadRequestf("missing %s ID", kind)
	}
	return url.PathEscape(id), nil
}
