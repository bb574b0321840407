package api

import (
	"fmt"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/selection"
)

// FavourPrefix marks a soft constraint: a node matching it (with the prefix
// stripped from the key) ranks higher, one that does not is still eligible.
const FavourPrefix = "favour_"

// ParseSelector parses label selector expressions, as the labels= query
// parameter carries them (it may be repeated; each is a selector string in
// Kubernetes syntax, and all of them must match). No expression, or only
// empty ones, gives labels.Everything(). Errors are of kind ErrBadRequest
// ("invalid label selector: …").
func ParseSelector(exprs ...string) (labels.Selector, error) {
	sel := labels.NewSelector()
	for _, expr := range exprs {
		if strings.TrimSpace(expr) == "" {
			continue
		}
		reqs, err := labels.ParseToRequirements(expr)
		if err != nil {
			return nil, BadRequestf("invalid label selector: %q: %v", expr, err)
		}
		sel = sel.Add(reqs...)
	}
	if sel.Empty() {
		return labels.Everything(), nil
	}
	return sel, nil
}

// ParseConstraints turns a selector string ("region in (eu,us),zone=a") into
// job constraints, for CLIs (--constraints). Values of in/notin come out
// sorted and without duplicates. An empty string gives no constraints.
// Errors are of kind ErrBadRequest.
func ParseConstraints(expr string) ([]*LabelSelectorRequirement, error) {
	out := []*LabelSelectorRequirement{}
	if strings.TrimSpace(expr) == "" {
		return out, nil
	}
	reqs, err := labels.ParseToRequirements(expr)
	if err != nil {
		return nil, BadRequestf("invalid constraints: %q: %v", expr, err)
	}
	for _, r := range reqs {
		c := &LabelSelectorRequirement{Key: r.Key(), Operator: string(r.Operator())}
		if vals := r.Values().List(); len(vals) > 0 {
			c.Values = vals
		}
		out = append(out, c)
	}
	// A favour_ key is a valid label key whose rest may not be ("favour_.x"):
	// refuse here what the job validator would refuse at submission.
	if _, _, err := ConstraintSelectors(out); err != nil {
		return nil, BadRequestf("invalid constraints: %q: %v", expr, err)
	}
	return out, nil
}

// ConstraintSelectors splits a job's constraints into the hard selector a
// node's labels must match and the soft requirements (keys prefixed
// favour_, the prefix stripped) each of which adds rank when it matches. No
// hard constraint gives a selector that matches every node. Operators are
// read in any case ("In" as "in"). A constraint the selector package refuses
// is an error of kind ErrBadRequest naming its index; nil constraints are
// skipped.
func ConstraintSelectors(cs []*LabelSelectorRequirement) (hard labels.Selector, soft []labels.Requirement, err error) {
	var hardReqs []labels.Requirement
	for i, c := range cs {
		if c == nil {
			continue
		}
		req, favour, err := c.requirement()
		if err != nil {
			return nil, nil, BadRequestf("constraint %d: %v", i, err)
		}
		if favour {
			soft = append(soft, *req)
		} else {
			hardReqs = append(hardReqs, *req)
		}
	}
	if len(hardReqs) == 0 {
		return labels.Everything(), soft, nil
	}
	return labels.NewSelector().Add(hardReqs...), soft, nil
}

// requirement builds the selector requirement of a constraint, with the
// favour_ prefix stripped; favour says whether it was there.
func (c *LabelSelectorRequirement) requirement() (req *labels.Requirement, favour bool, err error) {
	key := strings.TrimSpace(c.Key)
	key, favour = strings.CutPrefix(key, FavourPrefix)
	op, ok := canonicalOperator(c.Operator)
	if !ok {
		return nil, favour, fmt.Errorf("unknown operator %q", c.Operator)
	}
	req, err = labels.NewRequirement(key, op, slices.Clone(c.Values))
	if err != nil {
		return nil, favour, err
	}
	return req, favour, nil
}

// knownOperators lists the operators in the order error messages name them.
var knownOperators = []selection.Operator{
	selection.Equals, selection.DoubleEquals, selection.NotEquals, selection.In, selection.NotIn,
	selection.Exists, selection.DoesNotExist, selection.GreaterThan, selection.LessThan,
}
