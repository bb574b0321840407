package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
)

// progressPrinter shows a job's history events as they come, one line
// each: when, which execution (or the job), its new state, and what that
// means in words.
type progressPrinter struct {
	w   io.Writer
	env *cliEnv
	st  styler
}

// Widths of the progress columns: a short execution ID (e-1a2b3c4d) and the
// longest state name (AskForBidAccepted).
const (
	progressSubjectWidth = 10
	progressStateWidth   = 17
)

func (p *progressPrinter) event(ev *api.JobHistory) {
	subject, state, meaning, ok := describeEvent(ev)
	if !ok {
		return
	}
	p.line(ev.Time, subject, state, meaning)
}

func (p *progressPrinter) line(at time.Time, subject, state, meaning string) {
	pad := func(s string, width int) string {
		return s + strings.Repeat(" ", max(0, width-len(s)))
	}
	line := fmt.Sprintf("%s  %s  %s", p.env.shortTime(at), pad(subject, progressSubjectWidth),
		p.st.state(state)+strings.Repeat(" ", max(0, progressStateWidth-len(state))))
	if meaning != "" {
		line += "  " + meaning
	}
	fmt.Fprintln(p.w, strings.TrimRight(line, " "))
}

// describeEvent words a history event; ok is false for an event that says
// nothing new (an execution "moving" to the state it was in, without a
// comment).
func describeEvent(ev *api.JobHistory) (subject, state, meaning string, ok bool) {
	comment := flatten(ev.Comment)
	withComment := func(s string) string {
		switch {
		case comment == "":
			return s
		case s == "":
			return comment
		}
		return s + ": " + comment
	}
	switch {
	case ev.Type == api.JobHistoryTypeJobLevel && ev.JobState != nil:
		s := ev.JobState.New
		if s == ev.JobState.Previous && s != api.JobStateTypePending && comment == "" {
			return "", "", "", false
		}
		return "job", s.String(), withComment(jobStateMeaning(s, ev.JobState.Previous)), true
	case ev.Type == api.JobHistoryTypeExecutionLevel && ev.ExecutionState != nil:
		s := ev.ExecutionState.New
		if s == ev.ExecutionState.Previous && s != api.ExecutionStateNew && comment == "" {
			return "", "", "", false
		}
		meaning := executionStateMeaning(s, ev.NodeID)
		if s == ev.ExecutionState.Previous && s != api.ExecutionStateNew {
			meaning = "" // a note about the state, such as "execution approved"
		}
		return api.ShortID(ev.ExecutionID), s.String(), withComment(meaning), true
	}
	return "", "", "", false
}

func jobStateMeaning(s, previous api.JobStateType) string {
	switch s {
	case api.JobStateTypePending:
		if previous == api.JobStateTypePending || previous == api.JobStateTypeUndefined {
			return "" // the creation event, whose comment says "Job created"
		}
		return "waiting for a node"
	case api.JobStateTypeRunning:
		return "the job is running"
	case api.JobStateTypeCompleted:
		return "the job completed"
	case api.JobStateTypeFailed:
		return "the job failed"
	case api.JobStateTypeStopped:
		return "the job was stopped"
	}
	return ""
}

func executionStateMeaning(s api.ExecutionStateType, nodeID string) string {
	node := "node " + api.ShortID(nodeID)
	if nodeID == "" {
		node = "a node"
	}
	switch s {
	case api.ExecutionStateNew:
		return "placed on " + node
	case api.ExecutionStateAskForBid:
		return "asked " + node + " to run it"
	case api.ExecutionStateAskForBidAccepted:
		return node + " can run it"
	case api.ExecutionStateAskForBidRejected:
		return node + " declined it"
	case api.ExecutionStateBidAccepted:
		return "running on " + node
	case api.ExecutionStateBidRejected:
		return "not needed: enough other executions run"
	case api.ExecutionStateCompleted:
		return "finished on " + node
	case api.ExecutionStateFailed:
		return "failed on " + node
	case api.ExecutionStateCancelled:
		return "cancelled on " + node
	}
	return ""
}
