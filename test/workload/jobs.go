package workload

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"

	"github.com/shoal-io/shoal/api"
)

// Labels the workload puts on every job, so a check can find all of a run's
// jobs and tell which token created each.
const (
	LabelRun   = "workload-run"
	LabelToken = "workload-token"
)

// NewRunID names a run; its jobs carry it in LabelRun.
func NewRunID() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return "r" + hex.EncodeToString(b[:])
}

// Token builds the idempotency token of a client's n-th job in a run. It is
// also a valid label value.
func Token(run string, client, n int) string {
	return fmt.Sprintf("%s-c%d-%d", run, client, n)
}

// NoopJob is a batch job of count noop executions, labelled with its run and
// token. Its resources are tiny so that many fit on one compute node.
func NoopJob(run, token string, count int) *api.Job {
	return &api.Job{
		Name:   token,
		Type:   api.JobTypeBatch,
		Count:  count,
		Labels: map[string]string{LabelRun: run, LabelToken: token},
		Tasks: []*api.Task{{
			Name:      "main",
			Engine:    &api.SpecConfig{Type: "noop"},
			Publisher: &api.SpecConfig{Type: "noop"},
			Resources: &api.ResourcesConfig{CPU: "10m", Memory: "1mb"},
		}},
	}
}
