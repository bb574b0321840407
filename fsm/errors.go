package fsm

import "errors"

// ErrUnknownCommand is returned for a log entry whose type this binary does
// not know or whose framing is broken.
var ErrUnknownCommand = errors.New("unknown command")
