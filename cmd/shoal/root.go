package main

import (
	"errors"
	"runtime"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

func newRootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:           "shoal",
		Short:         "Shoal: a highly available job orchestrator that speaks Bacalhau's Orchestrator API",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.AddCommand(newServeCommand(), newTLSCommand())
	addClientCommands(root, newCLIEnv())
	return root
}

// versionInfo describes this binary.
func versionInfo() api.BuildVersionInfo {
	v := api.BuildVersionInfo{GitVersion: gitVersion, GitCommit: gitCommit, GOOS: runtime.GOOS, GOARCH: runtime.GOARCH}
	parts := strings.SplitN(strings.TrimPrefix(gitVersion, "v"), ".", 3)
	if len(parts) >= 2 {
		v.Major, v.Minor = parts[0], parts[1]
	}
	if t, err := time.Parse(time.RFC3339, buildDate); err == nil {
		v.BuildDate = t
	}
	return v
}

// exitError carries the exit code a command wants.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func exitCode(err error) int {
	var e *exitError
	if errors.As(err, &e) {
		return e.code
	}
	return 1
}
