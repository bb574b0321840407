// Package publisher turns a finished execution's output into the
// PublishedResult the orchestrator stores: noop publishes nothing; local
// packs stdout, stderr, the exit code and every result folder into a tar.gz
// the compute node serves over HTTP.
package publisher

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// Publisher types, as jobs name them (compared case-insensitively). An empty
// type publishes nothing, like noop.
const (
	TypeNoop  = "noop"
	TypeLocal = "local"
)

// Types lists the publisher types a compute node supports.
func Types() []string { return []string{TypeNoop, TypeLocal} }

// Request is a finished execution's output, ready to publish.
type Request struct {
	ExecutionID string
	ExitCode    int
	StdoutPath  string // full stdout on the host; "" when there was none
	StderrPath  string
	Results     []ResultDir
}

// ResultDir is one result path's host folder, named as in the task.
type ResultDir struct {
	Name string
	Dir  string
}

// Publisher publishes a finished execution's output.
type Publisher interface {
	Publish(ctx context.Context, req *Request) (*api.SpecConfig, error)
}

// Noop publishes nothing.
type Noop struct{}

// Publish returns the empty result upstream's noop publisher reports.
func (Noop) Publish(context.Context, *Request) (*api.SpecConfig, error) {
	return &api.SpecConfig{Type: ""}, nil
}

// Local writes <Dir>/<execID>.tar.gz and reports a urlDownload result
// pointing at <BaseURL>/results/<execID>.tar.gz, which the node serves.
type Local struct {
	Dir     string
	BaseURL string
}

// Publish builds the tarball and returns where to download it.
func (l *Local) Publish(ctx context.Context, req *Request) (*api.SpecConfig, error) {
	name := TarballName(req.ExecutionID)
	if err := WriteTarball(ctx, filepath.Join(l.Dir, name), req); err != nil {
		return nil, fmt.Errorf("local publisher: %w", err)
	}
	return &api.SpecConfig{
		Type:   "urlDownload",
		Params: map[string]any{"URL": strings.TrimRight(l.BaseURL, "/") + ResultsURLPath(req.ExecutionID)},
	}, nil
}

// TarballName is the file name of an execution's published results.
func TarballName(executionID string) string { return executionID + ".tar.gz" }

// ResultsURLPath is where a compute node serves an execution's tarball.
func ResultsURLPath(executionID string) string { return "/results/" + TarballName(executionID) }
