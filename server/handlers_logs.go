package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/coder/websocket"
	"github.com/coder/websocket/wsjson"
	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/fsm"
)

// replayTailLines is how many lines ?tail=true replays from a finished
// execution's output.
const replayTailLines = 20

// handleJobLogs streams an execution's output over a websocket, as
// upstream's GET /jobs/:id/logs: frames {"value":{"Type":1,"Line":"…"}}. The
// output comes from the compute node that ran it (full, and live with
// follow=true); when that node cannot be reached, a finished execution is
// replayed from the RunOutput kept in the replicated state.
func (s *Server) handleJobLogs(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	follow, err := queryBool(q, "follow")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	tail, err := queryBool(q, "tail")
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	txn, job, err := s.readJob(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	exec, err := pickExecution(txn, job.ID, q.Get("execution_id"))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		return // Accept has answered the client
	}
	defer conn.CloseNow()
	ctx := conn.CloseRead(r.Context())

	err = s.streamFromNode(ctx, conn, txn, exec, follow, tail)
	if errors.Is(err, errNodeLogsUnavailable) && exec.IsTerminal() {
		err = replayRunOutput(ctx, conn, exec, tail)
	}
	if err != nil {
		_ = wsjson.Write(ctx, conn, api.ExecutionLogFrame{Error: err.Error()})
		conn.Close(websocket.StatusInternalError, "logs unavailable")
		return
	}
	conn.Close(websocket.StatusNormalClosure, "")
}

// pickExecution finds the execution named by a (prefix of an) ID, or the
// most recently modified one that was not discarded.
func pickExecution(txn *fsm.ReadTxn, jobID, want string) (*api.Execution, error) {
	execs, err := txn.ExecutionsByJob(jobID)
	if err != nil {
		return nil, err
	}
	if len(execs) == 0 {
		return nil, api.NotFoundf(api.ComponentJobStore, "job %s has no executions yet", jobID)
	}
	if want != "" {
		var found []*api.Execution
		for _, e := range execs {
			if e.ID == want {
				return e, nil
			}
			if strings.HasPrefix(e.ID, want) {
				found = append(found, e)
			}
		}
		switch len(found) {
		case 0:
			return nil, api.NotFoundf(api.ComponentJobStore, "execution %s not found in job %s", want, jobID)
		case 1:
			return found[0], nil
		}
		return nil, api.NewError(api.ErrAmbiguousID, api.CodeMultipleFound, api.ComponentJobStore,
			"execution ID prefix %s matches %d executions", want, len(found)).WithHint("use the full execution ID")
	}
	sorted := slices.Clone(execs)
	slices.SortStableFunc(sorted, func(a, b *api.Execution) int { return cmpInt64(b.ModifyTime, a.ModifyTime) })
	for _, e := range sorted {
		if !e.ComputeState.StateType.IsDiscarded() {
			return e, nil
		}
	}
	return sorted[0], nil
}

// errNodeLogsUnavailable means the node's log stream could not be opened, so
// nothing was sent yet and the output kept in state may be replayed instead.
var errNodeLogsUnavailable = errors.New("node logs unavailable")

// streamFromNode relays the compute node's NDJSON log stream.
func (s *Server) streamFromNode(ctx context.Context, conn *websocket.Conn, txn *fsm.ReadTxn, exec *api.Execution, follow, tail bool) error {
	node, err := txn.Node(exec.NodeID)
	if err != nil {
		return fmt.Errorf("%w: %w", errNodeLogsUnavailable, err)
	}
	base := s.nodeBaseURL(node)
	if base == "" {
		return fmt.Errorf("%w: no address known for node %s", errNodeLogsUnavailable, exec.NodeID)
	}
	u := base + "/logs/" + url.PathEscape(exec.ID) + fmt.Sprintf("?follow=%t&tail=%t", follow, tail)
	reqCtx := ctx
	if !follow {
		var cancel context.CancelFunc
		reqCtx, cancel = context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
	}
	req, err := http.NewRequestWithContext(reqCtx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	resp, err := s.nodes.Do(req)
	if err != nil {
		return fmt.Errorf("%w: reach node %s: %w", errNodeLogsUnavailable, exec.NodeID, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: node %s answered %d for the logs of %s", errNodeLogsUnavailable, exec.NodeID, resp.StatusCode, exec.ID)
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 4<<20)
	for sc.Scan() {
		var line api.ExecutionLog
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			continue
		}
		if err := wsjson.Write(ctx, conn, api.ExecutionLogFrame{Value: &line}); err != nil {
			return nil // the client went away
		}
	}
	if err := sc.Err(); err != nil && ctx.Err() == nil {
		return fmt.Errorf("read logs from node %s: %w", exec.NodeID, err)
	}
	return nil
}

// nodeBaseURL is the HTTP base of a compute node's own endpoint, from its
// registration or, failing that, from gossip.
func (s *Server) nodeBaseURL(n *api.NodeInfo) string {
	if n.PeerInfo != nil {
		for _, a := range n.PeerInfo.Addrs {
			if hp := hostPortFromMultiaddr(a); hp != "" {
				return s.net.url(hp)
			}
		}
	}
	if m, ok := s.pool.Member(n.NodeID); ok && m.APIAddr != "" {
		return s.net.url(m.APIAddr)
	}
	return ""
}

// hostPortFromMultiaddr reads "/ip4/1.2.3.4/tcp/6001" (or dns4, ip6).
func hostPortFromMultiaddr(a string) string {
	parts := strings.Split(strings.Trim(a, "/"), "/")
	if len(parts) < 4 || parts[2] != "tcp" {
		return ""
	}
	switch parts[0] {
	case "ip4", "dns4", "dns", "dns6":
		return parts[1] + ":" + parts[3]
	case "ip6":
		return "[" + parts[1] + "]:" + parts[3]
	}
	return ""
}

func replayRunOutput(ctx context.Context, conn *websocket.Conn, exec *api.Execution, tail bool) error {
	if exec.RunOutput == nil {
		return fmt.Errorf("execution %s kept no output", exec.ID)
	}
	for _, stream := range []struct {
		kind int
		text string
	}{{api.LogTypeStdout, exec.RunOutput.STDOUT}, {api.LogTypeStderr, exec.RunOutput.STDERR}} {
		lines := strings.SplitAfter(stream.text, "\n")
		if len(lines) > 0 && lines[len(lines)-1] == "" {
			lines = lines[:len(lines)-1]
		}
		if tail && len(lines) > replayTailLines {
			lines = lines[len(lines)-replayTailLines:]
		}
		for _, l := range lines {
			if err := wsjson.Write(ctx, conn, api.ExecutionLogFrame{Value: &api.ExecutionLog{Type: stream.kind, Line: l}}); err != nil {
				return nil
			}
		}
	}
	return nil
}
