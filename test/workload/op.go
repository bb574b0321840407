package workload

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/shoal-io/shoal/api"
)

// Kind is what an operation asked for.
type Kind string

// The operations the workload issues.
const (
	KindCreate   Kind = "create"
	KindStop     Kind = "stop"
	KindDescribe Kind = "describe"
)

// Outcome is how an answer must be read.
type Outcome int

const (
	// OK: the server acknowledged the operation.
	OK Outcome = iota + 1
	// Failed: the server said for sure that nothing was written (a 4xx, a
	// 503 NoLeader, or a connection that was never made).
	Failed
	// Unknown: the operation may or may not have taken effect (a timeout,
	// a connection lost after the request was sent, 503 OutcomeUnknown, any
	// other 5xx).
	Unknown
)

func (o Outcome) String() string {
	switch o {
	case OK:
		return "ok"
	case Failed:
		return "failed"
	case Unknown:
		return "unknown"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// Op is one HTTP request the workload sent and what came of it. A create
// retried with the same token is one Op per attempt.
type Op struct {
	Seq    int    // order in which operations were recorded
	Client int    // the workload client that sent it
	Kind   Kind   //
	Target string // the replica it was sent to
	// Token is the idempotency token of the logical job the operation is
	// about: creates send it, stops and describes carry it so the checker
	// can group operations by job.
	Token string
	// JobID is the job a stop or describe named, or the job a create was
	// answered with.
	JobID        string
	Linearizable bool // describes: asked for consistency=linearizable
	Attempt      int  // creates: 1 for the first attempt with this token
	NoToken      bool // creates: sent without an idempotency token

	Call, Return time.Time

	Outcome Outcome
	Status  int    // HTTP status, 0 when there was no answer
	Code    string // error body's Code
	Err     string // transport error or error message

	// Describe answers.
	Found    bool
	JobState api.JobStateType
	Index    uint64 // X-Shoal-Index of the answer
}

func (o Op) String() string {
	s := fmt.Sprintf("#%d c%d %s %s on %s", o.Seq, o.Client, o.Kind, o.Token, o.Target)
	if o.JobID != "" {
		s += " job=" + o.JobID
	}
	if o.Kind == KindDescribe && o.Linearizable {
		s += " (linearizable)"
	}
	if o.NoToken {
		s += " (no idempotency token)"
	}
	s += fmt.Sprintf(" -> %s", o.Outcome)
	if o.Status != 0 {
		s += fmt.Sprintf(" %d", o.Status)
	}
	if o.Code != "" {
		s += " " + o.Code
	}
	if o.Kind == KindDescribe && o.Outcome == OK {
		if o.Found {
			s += " " + o.JobState.String()
		} else {
			s += " (not found)"
		}
	}
	if o.Err != "" {
		s += ": " + o.Err
	}
	return s + fmt.Sprintf(" [%s]", o.Return.Sub(o.Call).Round(time.Millisecond))
}

// Classify reads an answer (or the lack of one). status and body are the
// HTTP answer when err is nil.
func Classify(status int, body []byte, err error) (Outcome, string) {
	if err != nil {
		if neverSent(err) {
			return Failed, ""
		}
		return Unknown, ""
	}
	if status >= 200 && status < 300 {
		return OK, ""
	}
	var e api.APIError
	_ = json.Unmarshal(body, &e)
	switch {
	case status >= 400 && status < 500:
		return Failed, e.Code
	case status == http.StatusServiceUnavailable && e.Code == api.CodeNoLeader:
		return Failed, e.Code
	}
	return Unknown, e.Code
}

// neverSent reports whether a transport error happened before the request
// could reach the server: the connection was never established.
func neverSent(err error) bool {
	if _, ok := errors.AsType[*sentError](err); ok {
		return false
	}
	var op *net.OpError
	return errors.As(err, &op) && op.Op == "dial"
}
