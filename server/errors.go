package server

import "github.com/shoal-io/shoal/api"

// errOutcomeUnknown marks a write that may or may not have been committed:
// the client should retry it with the same idempotency token.
var errOutcomeUnknown = api.ErrOutcomeUnknown
