package api

import (
	"errors"
	"fmt"
	"net/http"
)

// The kinds of failure every layer reports. Wrap them with %w (or build an
// *Error) and test with errors.Is; the HTTP layer maps each to its status.
var (
	ErrBadRequest     = errors.New("bad request")
	ErrNotFound       = errors.New("not found")
	ErrAmbiguousID    = errors.New("ambiguous ID")
	ErrConflict       = errors.New("conflict")
	ErrTooLarge       = errors.New("request too large")
	ErrNoLeader       = errors.New("no leader")
	ErrOutcomeUnknown = errors.New("outcome unknown")
	ErrUnavailable    = errors.New("unavailable")
	ErrUnauthorized   = errors.New("unauthorized")
	// ErrForbidden is a caller that is known but whose token does not allow
	// the request (403).
	ErrForbidden = errors.New("permission denied")
)

// Error codes in the Code field of an error body. Where upstream has a code
// for the same thing, it is upstream's.
const (
	CodeBadRequest         = "BadRequest"
	CodeValidationError    = "ValidationError"
	CodeNotFound           = "NotFound"
	CodeMultipleFound      = "MultipleJobsFound"
	CodeResourceInUse      = "ResourceInUse"
	CodeConflictJobState   = "ConflictJobState"
	CodeRequestTooLarge    = "RequestTooLarge"
	CodeServiceUnavailable = "ServiceUnavailable"
	CodeNoLeader           = "NoLeader"
	CodeOutcomeUnknown     = "OutcomeUnknown"
	CodeMethodNotAllowed   = "MethodNotAllowed"
	CodeRouteNotFound      = "RouteNotFound"
	CodeUnauthorized       = "Unauthorized"
	CodeInternalError      = "InternalError"
	// ACL refusals: no valid token (401), too weak a token (403).
	CodeUnauthenticated  = "Unauthenticated"
	CodePermissionDenied = "PermissionDenied"
)

// Components named in error bodies.
const (
	ComponentAPI        = "APIServer"
	ComponentJobStore   = "JobStore"
	ComponentNodeStore  = "NodeStore"
	ComponentValidation = "Validation"
	ComponentRaft       = "Raft"
)

// Error is a failure with everything the error body needs. Kind is one of
// the Err* sentinels above, so errors.Is(err, ErrNotFound) works through it.
type Error struct {
	Kind      error
	Code      string
	Component string
	Message   string
	Hint      string
}

func (e *Error) Error() string { return e.Message }

func (e *Error) Unwrap() error { return e.Kind }

// NewError builds an *Error of the given kind.
func NewError(kind error, code, component, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Component: component, Message: fmt.Sprintf(format, args...)}
}

// WithHint returns e with a hint for the user.
func (e *Error) WithHint(hint string) *Error {
	e.Hint = hint
	return e
}

// NotFoundf reports a missing object.
func NotFoundf(component, format string, args ...any) *Error {
	return NewError(ErrNotFound, CodeNotFound, component, format, args...)
}

// BadRequestf reports input the server cannot accept.
func BadRequestf(format string, args ...any) *Error {
	return NewError(ErrBadRequest, CodeBadRequest, ComponentAPI, format, args...)
}

// ValidationErrorf reports a job or request that failed validation.
func ValidationErrorf(format string, args ...any) *Error {
	return NewError(ErrBadRequest, CodeValidationError, ComponentValidation, format, args...)
}

// APIError is the body of every error answer:
// {"Status":404,"Message":"…","RequestID":"…","Code":"NotFound","Component":"JobStore"}.
type APIError struct {
	Status    int    `json:"Status"`
	Message   string `json:"Message"`
	RequestID string `json:"RequestID"`
	Code      string `json:"Code"`
	Component string `json:"Component"`
	Hint      string `json:"Hint,omitempty"`
}

func (e *APIError) Error() string {
	if e.Hint != "" {
		return fmt.Sprintf("%s (%s)", e.Message, e.Hint)
	}
	return e.Message
}

// Unwrap lets clients test an answer with errors.Is(err, api.ErrNotFound).
func (e *APIError) Unwrap() error { return kindForStatus(e.Status, e.Code) }

func kindForStatus(status int, code string) error {
	switch {
	case code == CodeOutcomeUnknown:
		return ErrOutcomeUnknown
	case code == CodeNoLeader:
		return ErrNoLeader
	case code == CodeMultipleFound:
		return ErrAmbiguousID
	}
	switch status {
	case http.StatusBadRequest:
		return ErrBadRequest
	case http.StatusNotFound:
		return ErrNotFound
	case http.StatusConflict:
		return ErrConflict
	case http.StatusRequestEntityTooLarge:
		return ErrTooLarge
	case http.StatusUnauthorized:
		return ErrUnauthorized
	case http.StatusForbidden:
		return ErrForbidden
	case http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return ErrUnavailable
	}
	return nil
}

// StatusFor maps an error to its HTTP status and error body fields. Errors
// that are not *Error get a 500 with their text.
func StatusFor(err error) (status int, body APIError) {
	var e *Error
	if !errors.As(err, &e) {
		e = &Error{Code: CodeInternalError, Component: "Unknown", Message: err.Error()}
		if k := sentinelOf(err); k != nil {
			e.Kind = k
			e.Code = ""
		}
	}
	status = http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrAmbiguousID), errors.Is(err, ErrBadRequest):
		status = http.StatusBadRequest
	case errors.Is(err, ErrNotFound):
		status = http.StatusNotFound
	case errors.Is(err, ErrConflict):
		status = http.StatusConflict
	case errors.Is(err, ErrTooLarge):
		status = http.StatusRequestEntityTooLarge
	case errors.Is(err, ErrUnauthorized):
		status = http.StatusUnauthorized
	case errors.Is(err, ErrForbidden):
		status = http.StatusForbidden
	case errors.Is(err, ErrNoLeader), errors.Is(err, ErrOutcomeUnknown), errors.Is(err, ErrUnavailable):
		status = http.StatusServiceUnavailable
	}
	code := e.Code
	if code == "" {
		code = defaultCode(err)
	}
	component := e.Component
	if component == "" {
		component = ComponentAPI
	}
	return status, APIError{Status: status, Message: e.Message, Code: code, Component: component, Hint: e.Hint}
}

func sentinelOf(err error) error {
	for _, k := range []error{ErrBadRequest, ErrNotFound, ErrAmbiguousID, ErrConflict, ErrTooLarge,
		ErrNoLeader, ErrOutcomeUnknown, ErrUnavailable, ErrUnauthorized, ErrForbidden} {
		if errors.Is(err, k) {
			return k
		}
	}
	return nil
}

func defaultCode(err error) string {
	switch {
	case errors.Is(err, ErrAmbiguousID):
		return CodeMultipleFound
	case errors.Is(err, ErrBadRequest):
		return CodeBadRequest
	case errors.Is(err, ErrNotFound):
		return CodeNotFound
	case errors.Is(err, ErrConflict):
		return CodeResourceInUse
	case errors.Is(err, ErrTooLarge):
		return CodeRequestTooLarge
	case errors.Is(err, ErrNoLeader):
		return CodeNoLeader
	case errors.Is(err, ErrOutcomeUnknown):
		return CodeOutcomeUnknown
	case errors.Is(err, ErrUnavailable):
		return CodeServiceUnavailable
	case errors.Is(err, ErrUnauthorized):
		return CodeUnauthorized
	case errors.Is(err, ErrForbidden):
		return CodePermissionDenied
	}
	return CodeInternalError
}
