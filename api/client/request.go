package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/shoal-io/shoal/api"
)

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 1 << 20

// request is one API call, possibly sent to several hosts in turn.
type request struct {
	method string
	path   string // already escaped
	query  url.Values

	json   any       // encoded as the JSON body when set
	raw    []byte    // sent as is when set (JSON)
	stream io.Reader // streamed once; retried only if nothing was read

	// idempotent says repeating the request cannot do harm, so it may go
	// to another host even when the first may have acted on it.
	idempotent bool
	// wait is how long the server may hold a blocking query; each attempt
	// gets that on top of the client's timeout.
	wait time.Duration
	// streaming answers (snapshots) are bounded by the context only.
	streaming bool
}

// RequestError is a request that got no HTTP answer from any host.
type RequestError struct {
	Method string
	Path   string
	Host   string // the last host tried
	// OutcomeUnknown says the request may have reached the server and may
	// have taken effect: a create sent without an idempotency token.
	OutcomeUnknown bool
	Err            error
}

func (e *RequestError) Error() string {
	what := "unreachable"
	if e.OutcomeUnknown {
		what = "outcome unknown"
	}
	if e.Host == "" {
		return fmt.Sprintf("%s %s: %s: %v", e.Method, e.Path, what, e.Err)
	}
	return fmt.Sprintf("%s %s on %s: %s: %v", e.Method, e.Path, e.Host, what, e.Err)
}

// Unwrap gives the network error and the kind of failure:
// api.ErrOutcomeUnknown or api.ErrUnavailable.
func (e *RequestError) Unwrap() []error {
	if e.OutcomeUnknown {
		return []error{e.Err, api.ErrOutcomeUnknown}
	}
	return []error{e.Err, api.ErrUnavailable}
}

// countingReader tells whether a streamed body has been touched, which
// decides whether another host may be sent it.
type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// send runs r against the hosts in turn and returns the first 2xx answer,
// whose body the caller must close. A host is left for the next when the
// request never reached it, when it says it has no leader, or, for an
// idempotent request, when the outcome is unknown. Every host is tried at
// most once.
func (c *Client) send(ctx context.Context, r *request) (*http.Response, *Meta, error) {
	hosts := c.candidates()
	if len(hosts) == 0 {
		return nil, nil, &RequestError{Method: r.method, Path: r.path, Err: errors.New("no API host known")}
	}
	var stream *countingReader
	if r.stream != nil {
		stream = &countingReader{r: r.stream}
	}
	var body []byte
	switch {
	case r.raw != nil:
		body = r.raw
	case r.json != nil:
		b, err := json.Marshal(r.json)
		if err != nil {
			return nil, nil, fmt.Errorf("encoding %s %s: %w", r.method, r.path, err)
		}
		body = b
	}
	// replayable says the body can be sent again.
	replayable := func() bool { return stream == nil || stream.n == 0 }

	var lastErr error
	var lastMeta *Meta
	for _, host := range hosts {
		var reader io.Reader
		switch {
		case stream != nil:
			reader = stream
		case body != nil:
			reader = bytes.NewReader(body)
		}
		resp, err := c.attempt(ctx, host, r, reader)
		if err != nil {
			if ctx.Err() != nil {
				return nil, nil, fmt.Errorf("%s %s on %s: %w", r.method, r.path, host, ctx.Err())
			}
			sent := !neverSent(err)
			reqErr := &RequestError{Method: r.method, Path: r.path, Host: host, OutcomeUnknown: sent && !r.idempotent, Err: err}
			lastErr, lastMeta = reqErr, nil
			if !replayable() || (sent && !r.idempotent) {
				return nil, nil, reqErr
			}
			continue
		}
		meta := metaOf(host, resp)
		if resp.StatusCode >= 200 && resp.StatusCode < 300 {
			c.setCurrent(host)
			return resp, meta, nil
		}
		apiErr := decodeError(resp)
		resp.Body.Close()
		lastErr, lastMeta = apiErr, meta
		if replayable() && (notApplied(apiErr) || (r.idempotent && outcomeUnknown(apiErr))) {
			continue
		}
		// The host answered: it is alive, keep talking to it.
		c.setCurrent(host)
		return nil, meta, apiErr
	}
	return nil, lastMeta, lastErr
}

// attempt sends r to one host.
func (c *Client) attempt(ctx context.Context, host string, r *request, body io.Reader) (*http.Response, error) {
	target := host + r.path
	if len(r.query) > 0 {
		target += "?" + r.query.Encode()
	}
	hc := c.httpClient
	cancel := context.CancelFunc(func() {})
	if !r.streaming && c.timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, c.timeout+waitAllowance(r.wait))
	}
	if r.wait > 0 && hc.Timeout > 0 {
		// The caller's http.Client timeout bounds the rest of the request,
		// not the time the server may hold it.
		longer := *hc
		longer.Timeout += waitAllowance(r.wait)
		hc = &longer
	}
	req, err := http.NewRequestWithContext(ctx, r.method, target, body)
	if err != nil {
		cancel()
		return nil, api.BadRequestf("building %s %s: %v", r.method, target, err)
	}
	for k, vs := range c.header {
		for _, v := range vs {
			req.Header.Add(k, v)
		}
	}
	req.Header.Set("Accept", "application/json")
	if c.userAgent != "" {
		req.Header.Set("User-Agent", c.userAgent)
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	switch {
	case r.stream != nil:
		req.Header.Set("Content-Type", "application/octet-stream")
	case body != nil:
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = &cancelOnClose{ReadCloser: resp.Body, cancel: cancel}
	return resp, nil
}

// waitAllowance is how long a server may hold a blocking query asked to wait
// that long: servers add up to wait/16 of jitter, as Nomad's do, so that
// watchers do not all come back at once.
func waitAllowance(wait time.Duration) time.Duration {
	if wait <= 0 {
		return 0
	}
	return wait + wait/16
}

// cancelOnClose keeps an attempt's deadline alive until its answer is read.
type cancelOnClose struct {
	io.ReadCloser
	cancel context.CancelFunc
}

func (b *cancelOnClose) Close() error {
	err := b.ReadCloser.Close()
	b.cancel()
	return err
}

// neverSent reports a failure that happened before any byte of the request
// could reach a server: resolving or connecting.
func neverSent(err error) bool {
	var opErr *net.OpError
	if errors.As(err, &opErr) && (opErr.Op == "dial" || opErr.Op == "proxyconnect") {
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return true
	}
	// Only a connect can be refused; an established connection is reset.
	return errors.Is(err, syscall.ECONNREFUSED)
}

// notApplied reports an answer saying the request was not acted upon and
// another replica may do better.
func notApplied(e *api.APIError) bool {
	return e.Status == http.StatusServiceUnavailable && (e.Code == api.CodeNoLeader || e.Code == api.CodeServiceUnavailable)
}

// outcomeUnknown reports an answer that does not say whether the request
// took effect: a replica that lost leadership mid-write, or a gateway.
func outcomeUnknown(e *api.APIError) bool {
	switch e.Status {
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// decodeError reads an error answer into an *api.APIError: Shoal's body, or
// upstream's older {"error","message"} one, or whatever text came.
func decodeError(resp *http.Response) *api.APIError {
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var body struct {
		api.APIError
		// Upstream before v1.5 put the useful text under "error" and a
		// generic one under "message".
		Upstream string `json:"error"`
	}
	e := &api.APIError{}
	if err := json.Unmarshal(raw, &body); err == nil && (body.Message != "" || body.Code != "" || body.Upstream != "") {
		*e = body.APIError
		if body.Upstream != "" && body.Code == "" {
			e.Message = body.Upstream
		}
	} else {
		e.Message = strings.TrimSpace(string(raw))
		if e.Message == plaintextToTLS {
			e.Message = "this API speaks HTTPS only: give the host as https://host:port, and the cluster's CA in " + EnvCACert
		}
		if e.Message == "" {
			e.Message = http.StatusText(resp.StatusCode)
		}
	}
	e.Status = resp.StatusCode
	if e.RequestID == "" {
		e.RequestID = resp.Header.Get(api.HeaderRequestID)
	}
	return e
}

func metaOf(host string, resp *http.Response) *Meta {
	m := &Meta{Host: host, RequestID: resp.Header.Get(api.HeaderRequestID)}
	if v := resp.Header.Get(api.HeaderIndex); v != "" {
		if n, err := strconv.ParseUint(v, 10, 64); err == nil {
			m.Index = n
		}
	}
	return m
}

// call sends r and decodes a JSON answer into out (nil: discarded).
func (c *Client) call(ctx context.Context, r *request, out any) (*Meta, error) {
	resp, meta, err := c.send(ctx, r)
	if err != nil {
		return meta, err
	}
	defer resp.Body.Close()
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return meta, nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		return meta, fmt.Errorf("decoding the answer to %s %s from %s: %w", r.method, r.path, meta.Host, err)
	}
	return meta, nil
}

// Do sends any request, for tests and endpoints this client does not wrap.
// path is the URL path ("/api/v1/…"); body is nil, []byte or
// json.RawMessage (sent as JSON text), an io.Reader (streamed), or a value
// encoded as JSON; out is nil (answer discarded), an io.Writer (raw answer
// copied) or a value the JSON answer is decoded into. Retries follow the
// same rules as the typed calls: GET and HEAD, DELETE of a job, compute node
// calls and a job PUT carrying an idempotency token are idempotent; anything
// else goes to another host only if it never reached the first.
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, body, out any) (*Meta, error) {
	method = strings.ToUpper(method)
	r := &request{method: method, path: path, query: query, idempotent: isIdempotent(method, path, body)}
	switch b := body.(type) {
	case nil:
	case []byte:
		r.raw = b
	case json.RawMessage:
		r.raw = b
	case io.Reader:
		r.stream = b
		r.streaming = true
	default:
		r.json = body
	}
	if w, ok := out.(io.Writer); ok {
		resp, meta, err := c.send(ctx, r)
		if err != nil {
			return meta, err
		}
		defer resp.Body.Close()
		if _, err := io.Copy(w, resp.Body); err != nil {
			return meta, fmt.Errorf("reading the answer to %s %s from %s: %w", method, path, meta.Host, err)
		}
		return meta, nil
	}
	return c.call(ctx, r, out)
}

// isIdempotent decides whether a request given to Do may be repeated on
// another host after an unknown outcome.
func isIdempotent(method, path string, body any) bool {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodOptions:
		return true
	case http.MethodDelete:
		return strings.HasPrefix(path, jobsPath+"/")
	case http.MethodPut, http.MethodPost:
		if strings.HasPrefix(path, computeNodesPath+"/") {
			return true
		}
		if method == http.MethodPut && strings.TrimRight(path, "/") == jobsPath {
			switch b := body.(type) {
			case *api.PutJobRequest:
				return b != nil && b.IdempotencyToken != ""
			case api.PutJobRequest:
				return b.IdempotencyToken != ""
			}
		}
	}
	return false
}
