package api

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"k8s.io/apimachinery/pkg/api/validate/content"
	"k8s.io/apimachinery/pkg/selection"
)

// MaxJobCount bounds a job's Count: a few extra zeros typed by mistake must
// not make the scheduler plan a million executions.
const MaxJobCount = 10000

// MaxTimeoutSeconds is the largest timeout a task may set: the most seconds a
// time.Duration holds, so that converting one never overflows into a
// negative (already expired) duration.
const MaxTimeoutSeconds = int64(1<<63-1) / int64(1e9)

// ValidateSubmission checks what a user sent, before defaults and IDs. Every
// problem is reported at once, one per line, in one *Error of kind
// ErrBadRequest with Code CodeValidationError; messages follow upstream's
// ("missing job type", `invalid job type: "x"`, "job count must be >= 0",
// "missing job tasks", "task main validation failed: engine validation
// failed: missing spec type", …). It also checks what upstream leaves to
// scheduling time or to the compute node: constraint operators and keys,
// label syntax, resource strings, network, engine and input source types and
// their required parameters, publisher type, timeouts, Count <= MaxJobCount,
// and control characters in names and IDs.
//
// It reads strings trimmed and types case-insensitively and takes nil
// collections as empty, so it gives the same answer before and after
// Normalize: the server may call them in either order.
func (j *Job) ValidateSubmission() error {
	if j == nil {
		return ValidationErrorf("empty/nil job")
	}
	return problemsError(j.problems(false))
}

// Validate is the full check of a job about to be stored, after defaults and
// IDs: everything ValidateSubmission checks, plus ID, Name and Namespace
// present, no white space in the ID, exactly one task, and for each task
// ExecutionTimeout+QueueTimeout <= TotalTimeout when TotalTimeout > 0.
func (j *Job) Validate() error {
	if j == nil {
		return ValidationErrorf("empty/nil job")
	}
	var p []string
	switch {
	case strings.TrimSpace(j.ID) == "":
		p = append(p, "missing job ID")
	case strings.ContainsFunc(j.ID, unicode.IsSpace):
		p = append(p, "job ID must not contain white space")
	}
	if strings.TrimSpace(j.Name) == "" {
		p = append(p, "missing job name")
	}
	if strings.TrimSpace(j.Namespace) == "" {
		p = append(p, "missing job namespace")
	}
	if len(j.Tasks) > 1 {
		p = append(p, "only one task is supported per job")
	}
	p = append(p, j.problems(true)...)
	for i, t := range j.Tasks {
		if t == nil {
			continue // already reported
		}
		if msg := t.Timeouts.sumProblem(); msg != "" {
			p = append(p, taskPrefix(i, t)+"task timeouts validation failed: "+msg)
		}
	}
	return problemsError(p)
}

// problems lists what is wrong with j. full says the caller checks ID
// presence and spacing itself (Validate).
func (j *Job) problems(full bool) []string {
	var p []string
	jobType := strings.ToLower(strings.TrimSpace(j.Type))
	switch jobType {
	case "":
		p = append(p, "missing job type")
	case JobTypeBatch, JobTypeOps, JobTypeService, JobTypeDaemon:
	default:
		p = append(p, fmt.Sprintf("invalid job type: %q", strings.TrimSpace(j.Type)))
	}
	switch {
	case j.Count < 0:
		p = append(p, "job count must be >= 0")
	case j.Count > MaxJobCount:
		p = append(p, fmt.Sprintf("job count must be <= %d", MaxJobCount))
	}
	switch {
	case hasControl(j.ID):
		p = append(p, "job ID must not contain control characters")
	case !full && (jobType == JobTypeService || jobType == JobTypeDaemon) &&
		strings.ContainsFunc(strings.TrimSpace(j.ID), unicode.IsSpace):
		// A batch or ops ID is dropped with a warning; a long-running
		// job's is kept, so it must be usable in a URL path and a CLI.
		p = append(p, "job ID must not contain white space")
	}
	if hasControl(j.Name) {
		p = append(p, "job name must not contain control characters")
	}
	if hasControl(j.Namespace) {
		p = append(p, "job namespace must not contain control characters")
	}
	p = append(p, labelProblems(j.Labels)...)
	for i, c := range j.Constraints {
		p = append(p, prefixed(fmt.Sprintf("constraint %d validation failed: ", i), constraintProblems(c))...)
	}
	if len(j.Tasks) == 0 {
		p = append(p, "missing job tasks")
	}
	for i, t := range j.Tasks {
		if t == nil {
			p = append(p, fmt.Sprintf("task %d validation failed: nil task", i))
			continue
		}
		p = append(p, prefixed(taskPrefix(i, t), t.problems())...)
	}
	return p
}

// taskPrefix names a task in its problems by name, or by index when it has
// no printable one.
func taskPrefix(i int, t *Task) string {
	name := strings.TrimSpace(t.Name)
	if name == "" || hasControl(name) {
		name = fmt.Sprint(i)
	}
	return fmt.Sprintf("task %s validation failed: ", name)
}

// labelKeyRule and labelValueRule say what the Kubernetes label syntax
// allows, more briefly than its own messages (which quote regular
// expressions at the user).
const (
	labelKeyRule = "a label key is an optional DNS subdomain prefix and '/', then a name of at most 63 " +
		"alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character"
	labelValueRule = "a label value is empty or at most 63 alphanumeric characters, '-', '_' or '.', " +
		"starting and ending with an alphanumeric character"
)

func labelProblems(labels map[string]string) []string {
	var p []string
	for _, k := range sortedKeys(labels) {
		if len(content.IsLabelKey(k)) > 0 {
			p = append(p, fmt.Sprintf("invalid label key %q: %s", k, labelKeyRule))
		}
		if v := labels[k]; len(content.IsLabelValue(v)) > 0 {
			p = append(p, fmt.Sprintf("invalid value %q of label %q: %s", v, k, labelValueRule))
		}
	}
	return p
}

// constraintProblems checks a constraint as the label selector package will
// read it when scheduling, so that a bad one fails the submission instead of
// leaving the job pending forever.
func constraintProblems(c *LabelSelectorRequirement) []string {
	if c == nil {
		return []string{"nil constraint"}
	}
	var p []string
	key := strings.TrimSpace(c.Key)
	switch {
	case key == "":
		p = append(p, "selector key cannot be blank")
	case len(content.IsLabelKey(strings.TrimPrefix(key, FavourPrefix))) > 0:
		p = append(p, fmt.Sprintf("invalid key %q: %s", key, labelKeyRule))
	}
	op, ok := canonicalOperator(c.Operator)
	if !ok {
		if strings.TrimSpace(c.Operator) == "" {
			return append(p, "missing operator")
		}
		return append(p, fmt.Sprintf("unknown operator %q: want one of %s", c.Operator, operatorList()))
	}
	switch op {
	case selection.In, selection.NotIn:
		if len(c.Values) == 0 {
			p = append(p, fmt.Sprintf("values cannot be empty for operator %s", op))
		}
	case selection.Exists, selection.DoesNotExist:
		if len(c.Values) > 0 {
			p = append(p, fmt.Sprintf("values must be empty for operator %s", op))
		}
	default:
		if len(c.Values) != 1 {
			p = append(p, fmt.Sprintf("operator %s must have exactly one value", op))
		}
	}
	for _, v := range c.Values {
		v = strings.TrimSpace(v)
		if op == selection.GreaterThan || op == selection.LessThan {
			if !isInteger(v) {
				p = append(p, fmt.Sprintf("value %q of operator %s must be an integer", v, op))
			}
			continue
		}
		if len(content.IsLabelValue(v)) > 0 {
			p = append(p, fmt.Sprintf("invalid value %q: %s", v, labelValueRule))
		}
	}
	return p
}

func operatorList() string {
	names := make([]string, len(knownOperators))
	for i, op := range knownOperators {
		names[i] = string(op)
	}
	return strings.Join(names, ", ")
}

// isInteger reports whether s is a base-10 int64, as the gt and lt
// operators require.
func isInteger(s string) bool {
	_, err := strconv.ParseInt(s, 10, 64)
	return err == nil
}

// hasControl reports control characters inside s; surrounding ones are white
// space that Normalize trims.
func hasControl(s string) bool { return strings.ContainsFunc(strings.TrimSpace(s), unicode.IsControl) }

func isSpaceOrControl(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }

// sortedKeys lets problems come out in the same order every time.
func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// prefixed puts prefix before every line, so each problem reads on its own.
func prefixed(prefix string, lines []string) []string {
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return lines
}

// problemsError joins problems into one validation error, nil when there are
// none.
func problemsError(p []string) error {
	if len(p) == 0 {
		return nil
	}
	return ValidationErrorf("%s", strings.Join(p, "\n"))
}
