package api

// HTTP conventions of Shoal's API beyond upstream's, shared by the server
// and the clients.
const (
	// HeaderIndex carries the state index an answer reflects.
	HeaderIndex = "X-Shoal-Index"
	// HeaderRequestID identifies a request in logs and error bodies.
	HeaderRequestID = "X-Request-Id"

	// QueryConsistency=ConsistencyLinearizable asks a replica to confirm it
	// has applied everything the leader committed before it reads.
	QueryConsistency        = "consistency"
	ConsistencyLinearizable = "linearizable"

	// QueryIndex and QueryWait make a blocking query: answer once the state
	// index passes index, or after wait (a Go duration such as "30s").
	QueryIndex = "index"
	QueryWait  = "wait"
)

// TransferLeadershipRequest is the body of
// POST /api/v1/operator/raft/transfer-leadership; an empty ID lets Raft pick
// the most up-to-date voter.
type TransferLeadershipRequest struct {
	ID string `json:"ID"`
}
