package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/shoal-io/shoal/api"
	"sigs.k8s.io/yaml"
)

// maxJobSpecBytes bounds a job spec file: the API takes at most 10 MB.
const maxJobSpecBytes = 10 << 20

// readJobSpec reads a job spec from a file, or from stdin when path is "-".
func readJobSpec(path string, stdin io.Reader) (*api.Job, error) {
	var (
		data []byte
		err  error
	)
	source := path
	if path == "-" {
		source = "from stdin"
		data, err = io.ReadAll(io.LimitReader(stdin, maxJobSpecBytes+1))
	} else {
		var f *os.File
		if f, err = os.Open(path); err == nil {
			data, err = io.ReadAll(io.LimitReader(f, maxJobSpecBytes+1))
			f.Close()
		}
	}
	if err != nil {
		return nil, inputErrorf("reading the job spec: %w", err)
	}
	if len(data) > maxJobSpecBytes {
		return nil, inputErrorf("job spec %s is larger than the API accepts (10 MB)", source)
	}
	return parseJobSpec(data, source)
}

// parseJobSpec reads a job written in YAML or JSON, either bare or wrapped
// as the API's request body ({Job: …}). Field names match in any case, as
// upstream's; an unknown field is an error rather than silently dropped,
// because it is nearly always a typo.
func parseJobSpec(data []byte, source string) (*api.Job, error) {
	bad := func(format string, args ...any) error {
		return inputErrorf("invalid job spec %s: %s", source, fmt.Sprintf(format, args...))
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, bad("it is empty")
	}
	raw, err := yaml.YAMLToJSON(data)
	if err != nil {
		return nil, bad("not valid YAML or JSON: %v", strings.TrimPrefix(err.Error(), "error converting YAML to JSON: "))
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(raw, &top); err != nil || top == nil {
		return nil, bad("want an object: a job (Type, Tasks, …) or {Job: …}")
	}
	if isWrapped(top) {
		var wrapper struct {
			Job              json.RawMessage
			IdempotencyToken string
			Namespace        string
		}
		if err := strictDecode(raw, &wrapper); err != nil {
			return nil, bad("%s", decodeProblem(err))
		}
		raw = wrapper.Job
	}
	var job *api.Job
	if err := strictDecode(raw, &job); err != nil {
		return nil, bad("%s", decodeProblem(err))
	}
	if job == nil {
		return nil, bad("the job is empty")
	}
	return job, nil
}

// isWrapped tells a request body ({Job: …}) from a bare job.
func isWrapped(top map[string]json.RawMessage) bool {
	hasJob := false
	for k := range top {
		switch strings.ToLower(k) {
		case "job":
			hasJob = true
		case "tasks", "type":
			return false
		}
	}
	return hasJob
}

func strictDecode(raw []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	return dec.Decode(v)
}

// decodeProblem says what is wrong in terms of the spec's fields.
func decodeProblem(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := typeErr.Field
		if field == "" {
			field = "the job"
		}
		return fmt.Sprintf("%s: want %s, not %s", field, typeName(typeErr.Type.String()), typeErr.Value)
	}
	var syntaxErr *json.SyntaxError
	if errors.As(err, &syntaxErr) {
		return fmt.Sprintf("malformed at byte %d: %v", syntaxErr.Offset, syntaxErr)
	}
	return strings.TrimPrefix(err.Error(), "json: ")
}

// typeName names a Go type the way a spec writer thinks of it.
func typeName(goType string) string {
	switch {
	case strings.HasPrefix(goType, "[]"):
		return "a list"
	case strings.HasPrefix(goType, "map["), strings.HasPrefix(goType, "api."), strings.HasPrefix(goType, "*api."):
		return "an object"
	case strings.HasPrefix(goType, "int"), strings.HasPrefix(goType, "uint"), strings.HasPrefix(goType, "float"):
		return "a number"
	case goType == "string":
		return "a string"
	case goType == "bool":
		return "true or false"
	}
	return goType
}

// prepareJob normalizes a job and checks it as the API will, so that a bad
// spec fails here with every problem listed, before anything is sent.
func prepareJob(job *api.Job) error {
	job.Normalize()
	if err := job.ValidateSubmission(); err != nil {
		return inputErrorf("invalid job: %w", err)
	}
	return nil
}
