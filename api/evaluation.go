package api

// Evaluation statuses.
const (
	EvalStatusPending  = "pending"
	EvalStatusBlocked  = "blocked"
	EvalStatusComplete = "complete"
	EvalStatusFailed   = "failed"
	EvalStatusCanceled = "canceled"
)

// What raised an evaluation.
const (
	EvalTriggerJobRegister   = "job-register"
	EvalTriggerJobCancel     = "job-cancel"
	EvalTriggerJobQueue      = "job-queue"
	EvalTriggerJobTimeout    = "job-timeout"
	EvalTriggerExecUpdate    = "exec-update"
	EvalTriggerExecFailure   = "exec-failure"
	EvalTriggerExecTimeout   = "exec-timeout"
	EvalTriggerNodeJoin      = "node-join"
	EvalTriggerNodeLost      = "node-lost"
	EvalTriggerNodeReconnect = "node-reconnect"
)

// Evaluation is a request to reconcile one job with the cluster. Only its ID
// is on the public API; the rest is internal and replicated so a new leader
// can carry on where the old one stopped.
type Evaluation struct {
	ID          string `json:"ID"`
	Namespace   string `json:"Namespace"`
	JobID       string `json:"JobID"`
	TriggeredBy string `json:"TriggeredBy"`
	Priority    int    `json:"Priority"`
	Type        string `json:"Type"`
	Status      string `json:"Status"`
	Comment     string `json:"Comment,omitempty"`
	// WaitUntil holds the evaluation back until this Unix time in
	// nanoseconds; 0 means at once.
	WaitUntil  int64 `json:"WaitUntil,omitempty"`
	CreateTime int64 `json:"CreateTime"`
	ModifyTime int64 `json:"ModifyTime"`
}

// IsOpen reports whether the evaluation still needs processing.
func (e *Evaluation) IsOpen() bool {
	return e.Status == EvalStatusPending || e.Status == EvalStatusBlocked
}
