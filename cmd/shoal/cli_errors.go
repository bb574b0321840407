package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

// Exit codes of the client commands (listed in `shoal job run --help` and
// the README).
const (
	exitFailure     = 1   // the job failed or was stopped, or the API refused the request
	exitUsage       = 2   // bad flags, arguments or input (including a job the API found invalid)
	exitUnreachable = 3   // no API host answered, or the cluster has no leader
	exitWaitTimeout = 4   // gave up waiting (--wait-timeout); the job is still running
	exitInterrupted = 130 // interrupted (Ctrl-C); a submitted job keeps running
)

// exitCodesHelp documents the exit codes in help texts.
const exitCodesHelp = `Exit codes:
  0    success (for job run: the job completed)
  1    the job failed or was stopped, or the API refused the request
  2    bad flags, arguments or input (including a job spec the API rejects)
  3    the API could not be reached (no host answered, or no leader)
  4    gave up waiting (--wait-timeout); the job is still running
  130  interrupted (Ctrl-C); the job keeps running`

// usageErr marks a mistake in what the user typed or gave us. seeHelp says
// the command's help shows how to do it right (a flag or argument), rather
// than the mistake being in the content of a file.
type usageErr struct {
	err     error
	seeHelp bool
}

func (e *usageErr) Error() string { return e.err.Error() }
func (e *usageErr) Unwrap() error { return e.err }

// usageErrorf reports a bad flag or argument.
func usageErrorf(format string, args ...any) error {
	return &usageErr{err: fmt.Errorf(format, args...), seeHelp: true}
}

func usageError(err error) error {
	if err == nil {
		return nil
	}
	return &usageErr{err: err, seeHelp: true}
}

// inputErrorf reports bad input content (a job spec, a file).
func inputErrorf(format string, args ...any) error {
	return &usageErr{err: fmt.Errorf(format, args...)}
}

// oneLine is an error printed on one line: main prints "Error: <msg>", and
// a message of several lines (a validation error lists every problem) would
// read as several errors.
type oneLine struct {
	msg string
	err error
}

func (e *oneLine) Error() string { return e.msg }
func (e *oneLine) Unwrap() error { return e.err }

// commandError turns what a command returned into the error main prints and
// the exit code it exits with.
func commandError(cmd *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	var done *exitError
	if errors.As(err, &done) {
		return &exitError{code: done.code, err: &oneLine{msg: flatten(message(done.err)), err: done.err}}
	}
	code := exitCodeOf(err)
	msg := message(err)
	if code == exitUsage && seeHelp(err) {
		msg += fmt.Sprintf(" (see '%s --help')", cmd.CommandPath())
	}
	return &exitError{code: code, err: &oneLine{msg: flatten(msg), err: err}}
}

func exitCodeOf(err error) int {
	var usage *usageErr
	switch {
	case errors.As(err, &usage):
		return exitUsage
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, api.ErrUnavailable), errors.Is(err, api.ErrNoLeader), errors.Is(err, api.ErrOutcomeUnknown):
		return exitUnreachable
	case errors.Is(err, api.ErrBadRequest), errors.Is(err, api.ErrAmbiguousID), errors.Is(err, api.ErrTooLarge):
		return exitUsage
	}
	return exitFailure
}

// seeHelp reports a usage error for which pointing at --help helps.
func seeHelp(err error) bool {
	var usage *usageErr
	var apiErr *api.APIError
	return errors.As(err, &usage) && usage.seeHelp && !errors.As(err, &apiErr)
}

// message is the text of an error for people: the API's message and hint,
// or a plain account of an unreachable API.
func message(err error) string {
	var reqErr *client.RequestError
	if errors.As(err, &reqErr) && !errors.Is(err, context.Canceled) {
		return unreachableMessage(reqErr)
	}
	if errors.Is(err, context.Canceled) {
		return "interrupted"
	}
	var local *api.Error
	if errors.As(err, &local) && local.Hint != "" && !strings.Contains(err.Error(), local.Hint) {
		return err.Error() + " (" + local.Hint + ")"
	}
	return err.Error()
}

func unreachableMessage(e *client.RequestError) string {
	cause := e.Err.Error()
	var opErr *net.OpError
	if errors.As(e.Err, &opErr) && opErr.Err != nil {
		cause = opErr.Err.Error()
	}
	where := e.Host
	if where == "" {
		where = "no host known"
	}
	if e.OutcomeUnknown {
		return fmt.Sprintf("lost contact with the Shoal API at %s during %s %s (%s): the request may or may not have taken effect",
			where, e.Method, e.Path, cause)
	}
	return fmt.Sprintf("cannot reach the Shoal API (last tried %s): %s; is a replica running there? "+
		"Point --api-host/--api-port (or %s/%s) at one", where, cause, envAPIHost, envAPIPort)
}

// flatten puts a message of several lines on one.
func flatten(msg string) string {
	lines := strings.FieldsFunc(msg, func(r rune) bool { return r == '\n' || r == '\r' })
	for i, l := range lines {
		lines[i] = strings.TrimSpace(l)
	}
	return strings.Join(lines, "; ")
}

// run wraps a command's function so that every error it returns carries its
// exit code and prints on one line.
func run(fn func(cmd *cobra.Command, args []string) error) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		return commandError(cmd, fn(cmd, args))
	}
}

// args wraps a positional argument check so that its error is a usage
// error (exit code 2).
func args(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		return commandError(cmd, usageError(check(cmd, a)))
	}
}

// flagError makes a flag parsing error a usage error; commands inherit it
// from their group.
func flagError(cmd *cobra.Command, err error) error {
	return commandError(cmd, usageError(err))
}

// newGroupCommand is a command that only holds subcommands: run bare it
// prints its help; with an unknown subcommand it says so.
func newGroupCommand(use, short, long string) *cobra.Command {
	cmd := &cobra.Command{
		Use:   use,
		Short: short,
		Long:  long,
		Args:  cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return commandError(cmd, usageErrorf("unknown command %q for %q", a[0], cmd.CommandPath()))
			}
			return cmd.Help()
		},
	}
	cmd.SetFlagErrorFunc(flagError)
	return cmd
}
