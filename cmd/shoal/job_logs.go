package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/coder/websocket"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

// maxLogFrame bounds one websocket frame: a line of output with its JSON
// wrapping.
const maxLogFrame = 4 << 20

func newJobLogsCommand(env *cliEnv) *cobra.Command {
	var req logsRequest
	cmd := &cobra.Command{
		Use:   "logs JOB_ID",
		Short: "Print the output of a job's execution",
		Long: `Print what an execution of the job wrote: its stdout lines to stdout and its
stderr lines to stderr. Without --execution-id the API picks the most
recently active execution. A finished execution's output is replayed from
what it recorded; a running one's is streamed from its compute node.`,
		Example: `  shoal job logs j-1a2b3c4d
  shoal job logs j-1a2b3c4d -f                 # keep streaming until it ends
  shoal job logs j-1a2b3c4d -e e-5b1c7b48 -t -f # only new output of one execution`,
		Args: args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			_, hosts, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			req.jobID = a[0]
			_, err = env.streamLogs(cmd.Context(), cmd, hosts, req)
			return err
		}),
	}
	f := cmd.Flags()
	f.StringVarP(&req.executionID, "execution-id", "e", "", "the execution whose output to print (full ID or unique prefix)")
	f.BoolVarP(&req.follow, "follow", "f", false, "keep printing output as it is written, until the execution ends")
	f.BoolVarP(&req.tail, "tail", "t", false, "skip what was already written: print only new output (with --follow)")
	return cmd
}

// logsRequest is one read of an execution's output.
type logsRequest struct {
	jobID       string
	executionID string
	follow      bool
	tail        bool
}

// streamLogs reads the logs websocket of the first host that answers and
// copies each line to stdout or stderr, as the task wrote it. It returns
// how many lines it printed.
func (e *cliEnv) streamLogs(ctx context.Context, cmd *cobra.Command, hosts []string, req logsRequest) (int, error) {
	if strings.TrimSpace(req.jobID) == "" {
		return 0, usageErrorf("missing job ID")
	}
	path := "/api/v1/orchestrator/jobs/" + url.PathEscape(req.jobID) + "/logs"
	q := url.Values{}
	if req.executionID != "" {
		q.Set("execution_id", req.executionID)
	}
	if req.follow {
		q.Set("follow", "true")
	}
	if req.tail {
		q.Set("tail", "true")
	}
	target := path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	opts := &websocket.DialOptions{HTTPClient: e.httpClient, HTTPHeader: http.Header{"User-Agent": {"shoal-cli/" + gitVersion}}}
	if token := e.aclToken(cmd); token != "" {
		opts.HTTPHeader.Set("Authorization", "Bearer "+token)
	}
	var lastErr error
	for _, host := range hosts {
		conn, resp, err := websocket.Dial(ctx, host+target, opts)
		if err == nil {
			defer conn.CloseNow()
			return copyLogs(ctx, conn, stdout(cmd), stderr(cmd))
		}
		if ctx.Err() != nil {
			return 0, fmt.Errorf("opening the logs of job %s: %w", req.jobID, ctx.Err())
		}
		if resp == nil {
			lastErr = &client.RequestError{Method: http.MethodGet, Path: path, Host: host, Err: err}
			continue
		}
		apiErr := handshakeError(resp)
		switch resp.StatusCode {
		case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			lastErr = apiErr
			continue
		}
		return 0, apiErr
	}
	return 0, lastErr
}

// handshakeError reads the API's error body from a refused websocket
// handshake (the websocket library keeps its first kilobyte).
func handshakeError(resp *http.Response) *api.APIError {
	e := &api.APIError{Status: resp.StatusCode}
	var raw []byte
	if resp.Body != nil {
		raw, _ = io.ReadAll(resp.Body)
	}
	var body struct {
		api.APIError
		Upstream string `json:"error"`
	}
	switch {
	case json.Unmarshal(raw, &body) == nil && (body.Message != "" || body.Upstream != ""):
		*e = body.APIError
		if e.Message == "" {
			e.Message = body.Upstream
		}
		e.Status = resp.StatusCode
	case resp.StatusCode == http.StatusOK:
		e.Message = "the API did not open a log stream: it may not serve logs (upgrade the server)"
	case len(strings.TrimSpace(string(raw))) > 0:
		e.Message = strings.TrimSpace(string(raw))
	default:
		e.Message = http.StatusText(resp.StatusCode)
	}
	return e
}

// copyLogs prints each log frame until the server closes the stream, and
// returns how many lines it printed.
func copyLogs(ctx context.Context, conn *websocket.Conn, out, errOut io.Writer) (lines int, err error) {
	conn.SetReadLimit(maxLogFrame)
	for {
		_, data, err := conn.Read(ctx)
		if err != nil {
			switch {
			case ctx.Err() != nil:
				return lines, fmt.Errorf("reading logs: %w", ctx.Err())
			case websocket.CloseStatus(err) == websocket.StatusNormalClosure,
				websocket.CloseStatus(err) == websocket.StatusGoingAway,
				errors.Is(err, io.EOF):
				return lines, nil
			}
			return lines, fmt.Errorf("reading logs: %w", err)
		}
		var frame api.ExecutionLogFrame
		if err := json.Unmarshal(data, &frame); err != nil {
			return lines, fmt.Errorf("reading logs: malformed frame %.80q: %w", data, err)
		}
		if frame.Error != "" {
			return lines, fmt.Errorf("logs: %s", frame.Error)
		}
		if frame.Value == nil {
			continue
		}
		w := out
		if frame.Value.Type == api.LogTypeStderr {
			w = errOut
		}
		line := frame.Value.Line
		if !strings.HasSuffix(line, "\n") {
			line += "\n"
		}
		if _, err := io.WriteString(w, line); err != nil {
			return lines, err
		}
		lines++
	}
}
