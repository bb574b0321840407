package server

import (
	stdjson "encoding/json"
	"errors"
	json "github.com/goccy/go-json"
	"io"
	"net/http"
	"strconv"

	"github.com/shoal-io/shoal/api"
)

// Header names Shoal adds to the API.
const (
	headerIndex          = "X-Shoal-Index"
	headerRequestID      = "X-Request-Id"
	headerForwardedBy    = "X-Shoal-Forwarded-By"
	headerIdempotencyKey = "Idempotency-Key"
)

// writeJSON answers with a JSON body and the state index it reflects.
func writeJSON(w http.ResponseWriter, status int, index uint64, v any) {
	w.Header().Set("Content-Type", "application/json")
	if index > 0 {
		w.Header().Set(headerIndex, strconv.FormatUint(index, 10))
	}
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	// Result URLs carry query strings; keep & and < literal, as upstream.
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// writeError answers with the error body every failure shares.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	status, body := api.StatusFor(err)
	body.RequestID = w.Header().Get(headerRequestID)
	if status >= http.StatusInternalServerError && !errors.Is(err, api.ErrNoLeader) && !errors.Is(err, api.ErrOutcomeUnknown) && !errors.Is(err, api.ErrUnavailable) {
		s.logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "error", err, "request_id", body.RequestID)
	}
	writeJSON(w, status, s.fsm.State().Index(), body)
}

// decodeBody reads a JSON body into v. An empty body is allowed when
// optional is set. Oversized bodies become a 413, malformed ones a 400.
func decodeBody(r *http.Request, v any, optional bool) error {
	data, err := readBody(r)
	if err != nil {
		return err
	}
	return decodeJSON(data, v, optional)
}

func decodeJSON(data []byte, v any, optional bool) error {
	if len(data) == 0 || isBlank(data) {
		if optional {
			return nil
		}
		return api.BadRequestf("request body is empty: a JSON object is required")
	}
	// encoding/json checks the syntax first: goccy decodes faster but
	// panics on some malformed input (a truncated escape such as {"\0\),
	// where a client is owed a 400.
	if !stdjson.Valid(data) {
		return badJSON(stdjson.Unmarshal(data, new(any)))
	}
	if err := api.UnmarshalJSON(data, v); err != nil {
		return badJSON(err)
	}
	return nil
}

// badJSON turns a decoder's error (goccy's or encoding/json's, see
// api.UnmarshalJSON) into a 400 that says where or which field.
func badJSON(err error) error {
	var stdSyntax *stdjson.SyntaxError
	var stdType *stdjson.UnmarshalTypeError
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	switch {
	case errors.As(err, &stdSyntax):
		return api.BadRequestf("invalid JSON at byte %d: %v", stdSyntax.Offset, err)
	case errors.As(err, &syntax):
		return api.BadRequestf("invalid JSON at byte %d: %v", syntax.Offset, err)
	case errors.As(err, &stdType):
		return api.BadRequestf("invalid JSON: field %s must be %s, not %s", stdType.Field, stdType.Type, stdType.Value)
	case errors.As(err, &typeErr):
		return api.BadRequestf("invalid JSON: field %s must be %s, not %s", typeErr.Field, typeErr.Type, typeErr.Value)
	default:
		return api.BadRequestf("invalid JSON: %v", err)
	}
}

func isBlank(b []byte) bool {
	for _, c := range b {
		if c != ' ' && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// readBody reads the whole body under the size limit.
func readBody(r *http.Request) ([]byte, error) {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, api.NewError(api.ErrTooLarge, api.CodeRequestTooLarge, api.ComponentAPI,
				"request body is larger than %d bytes", tooBig.Limit)
		}
		return nil, api.BadRequestf("read request body: %v", err)
	}
	return data, nil
}
