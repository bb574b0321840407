package api

import (
	"strings"

	"k8s.io/apimachinery/pkg/selection"
)

// Normalize trims strings, sets Namespace "default" when empty, makes every
// nil collection empty (Constraints [], Meta {}, Labels {}, Tasks [], task
// Env {}, Meta {}, InputSources [], ResultPaths [], Publisher
// {"Type":"","Params":{}}, Resources {"CPU":"","Memory":"","Disk":"","GPU":""},
// Network {"Type":"None"}, Timeouts {} and SpecConfig Params {}), lowercases
// and strips spaces in resource strings, sets Count 1 for ops/daemon when 0,
// lowercases the job Type and spells constraint operators the way the label
// selector package does ("In" becomes "in", "DoesNotExist" becomes "!").
//
// The wire shape of a stored job must not depend on how sloppy its submitter
// was: the spec page shows every collection present even when empty.
// Normalize is safe on nil parts (a nil task or engine stays nil, for
// validation to report) and idempotent.
func (j *Job) Normalize() {
	if j == nil {
		return
	}
	j.ID = strings.TrimSpace(j.ID)
	j.Name = strings.TrimSpace(j.Name)
	j.Namespace = strings.TrimSpace(j.Namespace)
	if j.Namespace == "" {
		j.Namespace = DefaultNamespace
	}
	j.Type = strings.ToLower(strings.TrimSpace(j.Type))
	if j.Count == 0 && (j.Type == JobTypeOps || j.Type == JobTypeDaemon) {
		j.Count = 1
	}
	if j.Constraints == nil {
		j.Constraints = []*LabelSelectorRequirement{}
	}
	for _, c := range j.Constraints {
		c.Normalize()
	}
	j.Meta = emptyIfNil(j.Meta)
	j.Labels = emptyIfNil(j.Labels)
	if j.Tasks == nil {
		j.Tasks = []*Task{}
	}
	for _, t := range j.Tasks {
		t.Normalize()
	}
}

// Normalize fills a task's nil parts with their empty values and trims its
// strings; see Job.Normalize.
func (t *Task) Normalize() {
	if t == nil {
		return
	}
	t.Name = strings.TrimSpace(t.Name)
	t.Engine.Normalize()
	if t.Publisher == nil {
		t.Publisher = &SpecConfig{}
	}
	t.Publisher.Normalize()
	t.Env = emptyIfNil(t.Env)
	t.Meta = emptyIfNil(t.Meta)
	if t.InputSources == nil {
		t.InputSources = []*InputSource{}
	}
	for _, in := range t.InputSources {
		in.Normalize()
	}
	if t.ResultPaths == nil {
		t.ResultPaths = []*ResultPath{}
	}
	for _, rp := range t.ResultPaths {
		rp.Normalize()
	}
	if t.Resources == nil {
		t.Resources = &ResourcesConfig{}
	}
	t.Resources.Normalize()
	if t.Network == nil {
		t.Network = &NetworkConfig{Type: NetworkNone}
	}
	t.Network.Normalize()
	if t.Timeouts == nil {
		t.Timeouts = &TimeoutConfig{}
	}
}

// Normalize trims the type and makes nil Params empty.
func (s *SpecConfig) Normalize() {
	if s == nil {
		return
	}
	s.Type = strings.TrimSpace(s.Type)
	if s.Params == nil {
		s.Params = map[string]any{}
	}
}

// Normalize trims the alias and target and normalizes the source.
func (in *InputSource) Normalize() {
	if in == nil {
		return
	}
	in.Alias = strings.TrimSpace(in.Alias)
	in.Target = strings.TrimSpace(in.Target)
	in.Source.Normalize()
}

// Normalize trims the name and path.
func (rp *ResultPath) Normalize() {
	if rp == nil {
		return
	}
	rp.Name = strings.TrimSpace(rp.Name)
	rp.Path = strings.TrimSpace(rp.Path)
}

// Normalize lowercases and strips every space from the resource strings, so
// "1 GB" and "1gb" are stored alike.
func (r *ResourcesConfig) Normalize() {
	if r == nil {
		return
	}
	r.CPU = compactLower(r.CPU)
	r.Memory = compactLower(r.Memory)
	r.Disk = compactLower(r.Disk)
	r.GPU = compactLower(r.GPU)
}

// Normalize trims and lowercases the allowed domains (DNS names are
// case-insensitive).
func (n *NetworkConfig) Normalize() {
	if n == nil {
		return
	}
	for i, d := range n.Domains {
		n.Domains[i] = strings.ToLower(strings.TrimSpace(d))
	}
}

// Normalize trims the key and values and spells the operator as
// k8s.io/apimachinery/pkg/selection does. An unknown operator is only
// trimmed, for validation to report.
func (c *LabelSelectorRequirement) Normalize() {
	if c == nil {
		return
	}
	c.Key = strings.TrimSpace(c.Key)
	c.Operator = strings.TrimSpace(c.Operator)
	if op, ok := canonicalOperator(c.Operator); ok {
		c.Operator = string(op)
	}
	for i, v := range c.Values {
		c.Values[i] = strings.TrimSpace(v)
	}
}

// operatorSpellings maps the lowercased spellings users write (including the
// Kubernetes API's "In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt") to
// the selection operator.
var operatorSpellings = map[string]selection.Operator{
	"=":            selection.Equals,
	"==":           selection.DoubleEquals,
	"!=":           selection.NotEquals,
	"in":           selection.In,
	"notin":        selection.NotIn,
	"exists":       selection.Exists,
	"!":            selection.DoesNotExist,
	"doesnotexist": selection.DoesNotExist,
	"gt":           selection.GreaterThan,
	"lt":           selection.LessThan,
}

// canonicalOperator returns the selection operator op names, whatever its
// case or surrounding spaces.
func canonicalOperator(op string) (selection.Operator, bool) {
	o, ok := operatorSpellings[strings.ToLower(strings.TrimSpace(op))]
	return o, ok
}

func emptyIfNil(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

// compactLower lowercases s and removes every white space in it.
func compactLower(s string) string {
	return strings.ToLower(strings.Join(strings.Fields(s), ""))
}
