package main

import (
	"io"

	"github.com/shoal-io/shoal/api"
)

// styler adds ANSI bold and colors when they help: on a terminal, unless
// --no-style or NO_COLOR (https://no-color.org) say otherwise.
type styler struct{ enabled bool }

func newStyler(env *cliEnv, w io.Writer, noStyle bool) styler {
	return styler{enabled: !noStyle && env.getenv("NO_COLOR") == "" && env.isTerminal(w)}
}

// ANSI SGR codes.
const (
	sgrBold   = "1"
	sgrRed    = "31"
	sgrGreen  = "32"
	sgrYellow = "33"
	sgrCyan   = "36"
)

func (s styler) paint(code, text string) string {
	if !s.enabled || text == "" {
		return text
	}
	return "\x1b[" + code + "m" + text + "\x1b[0m"
}

func (s styler) bold(text string) string { return s.paint(sgrBold, text) }

// state colors a job, execution or node state by what it means: green done
// well, red failed, yellow stopped, cyan running; the rest is plain.
func (s styler) state(name string) string {
	switch name {
	case api.JobStateTypeCompleted.String(), api.NodeConnected:
		return s.paint(sgrGreen, name)
	case api.JobStateTypeFailed.String(), api.ExecutionStateAskForBidRejected.String(),
		api.ExecutionStateBidRejected.String(), api.NodeDisconnected:
		return s.paint(sgrRed, name)
	case api.JobStateTypeStopped.String(), api.ExecutionStateCancelled.String():
		return s.paint(sgrYellow, name)
	case api.JobStateTypeRunning.String(), api.ExecutionStateBidAccepted.String():
		return s.paint(sgrCyan, name)
	}
	return name
}
