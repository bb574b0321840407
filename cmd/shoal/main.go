// Command shoal is Shoal's one binary: `shoal serve` runs an orchestrator
// replica, a compute node or both (the dev default); every other command is
// a client of the REST API.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

// Set at build time with -ldflags "-X main.gitVersion=… -X main.gitCommit=… -X main.buildDate=…".
var (
	gitVersion = "v0.1.0-dev"
	gitCommit  = "unknown"
	buildDate  = ""
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRootCommand()
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "Error:", err)
		os.Exit(exitCode(err))
	}
}
