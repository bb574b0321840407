package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/shoal-io/shoal/api"
)

// OperatorAPI manages the replicated cluster itself.
type OperatorAPI struct{ c *Client }

// Raft returns the Raft configuration (GET /api/v1/operator/raft).
func (a *OperatorAPI) Raft(ctx context.Context) (*api.RaftConfigurationResponse, *Meta, error) {
	var out api.RaftConfigurationResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: operatorPath + "/raft", idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// Digest returns a hash of the answering replica's whole state
// (GET /api/v1/operator/digest), to compare replicas.
func (a *OperatorAPI) Digest(ctx context.Context) (*api.DigestResponse, *Meta, error) {
	var out api.DigestResponse
	meta, err := a.c.call(ctx, &request{method: http.MethodGet, path: operatorPath + "/digest", idempotent: true}, &out)
	if err != nil {
		return nil, meta, err
	}
	return &out, meta, nil
}

// RemovePeer removes a server from the Raft configuration
// (DELETE /api/v1/operator/raft/peers/:id). A membership change is not
// repeated after an unknown outcome: the operator checks Raft and decides.
func (a *OperatorAPI) RemovePeer(ctx context.Context, id string) error {
	escaped, err := escapeID("peer", id)
	if err != nil {
		return err
	}
	_, err = a.c.call(ctx, &request{method: http.MethodDelete, path: operatorPath + "/raft/peers/" + escaped}, nil)
	return err
}

// TransferLeadership asks the leader to hand over to toID, or to the most
// up-to-date voter when toID is empty
// (POST /api/v1/operator/raft/transfer-leadership).
func (a *OperatorAPI) TransferLeadership(ctx context.Context, toID string) error {
	r := &request{method: http.MethodPost, path: operatorPath + "/raft/transfer-leadership",
		json: api.TransferLeadershipRequest{ID: toID}}
	_, err := a.c.call(ctx, r, nil)
	return err
}

// SnapshotSave writes a snapshot of the whole state to w
// (GET /api/v1/operator/snapshot). The transfer is bounded by ctx only.
func (a *OperatorAPI) SnapshotSave(ctx context.Context, w io.Writer) (*Meta, error) {
	r := &request{method: http.MethodGet, path: operatorPath + "/snapshot", idempotent: true, streaming: true}
	resp, meta, err := a.c.send(ctx, r)
	if err != nil {
		return meta, err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(w, resp.Body); err != nil {
		return meta, fmt.Errorf("reading the snapshot from %s: %w", meta.Host, err)
	}
	return meta, nil
}

// SnapshotRestore replaces the cluster's state with a snapshot read from r
// (PUT /api/v1/operator/snapshot). The transfer is bounded by ctx only; it
// goes to another replica only if none of r was read.
func (a *OperatorAPI) SnapshotRestore(ctx context.Context, r io.Reader) error {
	if r == nil {
		return api.BadRequestf("missing snapshot")
	}
	_, err := a.c.call(ctx, &request{method: http.MethodPut, path: operatorPath + "/snapshot", stream: r, streaming: true}, nil)
	return err
}

// JobGC removes terminal jobs older than age now, with their executions,
// history and evaluations (POST /api/v1/operator/gc); age 0 removes every
// terminal job, a negative age uses the cluster's --job-gc-age. A server
// answers a long pass in parts (More); JobGC asks until it is done and
// returns the sum. A pass is safe to repeat, so it is retried after an
// unknown outcome.
func (a *OperatorAPI) JobGC(ctx context.Context, age time.Duration) (*api.JobGCResponse, *Meta, error) {
	var body api.JobGCRequest
	if age >= 0 {
		body.Age = age.String()
	}
	total := &api.JobGCResponse{}
	for {
		var out api.JobGCResponse
		meta, err := a.c.call(ctx, &request{method: http.MethodPost, path: operatorPath + "/gc", json: body, idempotent: true}, &out)
		if err != nil {
			return nil, meta, err
		}
		total.JobsRemoved += out.JobsRemoved
		total.Index = out.Index
		if !out.More || out.JobsRemoved == 0 {
			return total, meta, nil
		}
	}
}
