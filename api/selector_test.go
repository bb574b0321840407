package api

import (
	"errors"
	"reflect"
	"testing"

	"k8s.io/apimachinery/pkg/labels"
)

var nodeLabels = map[string]labels.Set{
	"eu-amd":  {"region": "eu", "arch": "amd64", "cores": "8"},
	"us-arm":  {"region": "us", "arch": "arm64", "cores": "4"},
	"bare":    {},
	"ap-gpu":  {"region": "ap", "gpu": "true", "cores": "16"},
	"canary":  {"bacalhau_canary": "true", "region": "eu"},
	"bad-int": {"cores": "many"},
}

func matching(t *testing.T, sel labels.Selector) []string {
	t.Helper()
	var out []string
	for _, name := range []string{"eu-amd", "us-arm", "bare", "ap-gpu", "canary", "bad-int"} {
		if sel.Matches(nodeLabels[name]) {
			out = append(out, name)
		}
	}
	return out
}

func TestParseSelector(t *testing.T) {
	cases := []struct {
		name  string
		exprs []string
		want  []string
	}{
		{"none", nil, []string{"eu-amd", "us-arm", "bare", "ap-gpu", "canary", "bad-int"}},
		{"empty strings", []string{"", " "}, []string{"eu-amd", "us-arm", "bare", "ap-gpu", "canary", "bad-int"}},
		{"equals", []string{"region=eu"}, []string{"eu-amd", "canary"}},
		{"double equals", []string{"region==us"}, []string{"us-arm"}},
		{"not equals matches absent keys", []string{"region!=eu"}, []string{"us-arm", "bare", "ap-gpu", "bad-int"}},
		{"in", []string{"region in (eu,us)"}, []string{"eu-amd", "us-arm", "canary"}},
		{"notin matches absent keys", []string{"region notin (eu,us)"}, []string{"bare", "ap-gpu", "bad-int"}},
		{"exists", []string{"gpu"}, []string{"ap-gpu"}},
		{"does not exist", []string{"!gpu"}, []string{"eu-amd", "us-arm", "bare", "canary", "bad-int"}},
		{"greater than", []string{"cores>4"}, []string{"eu-amd", "ap-gpu"}},
		{"less than", []string{"cores<8"}, []string{"us-arm"}},
		{"comma is AND", []string{"region=eu,arch=amd64"}, []string{"eu-amd"}},
		{"repeated expressions are ANDed", []string{"region in (eu,us)", "cores>4"}, []string{"eu-amd"}},
		{"upstream CLI default", []string{"bacalhau_canary != true"}, []string{"eu-amd", "us-arm", "bare", "ap-gpu", "bad-int"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sel, err := ParseSelector(tc.exprs...)
			if err != nil {
				t.Fatal(err)
			}
			if got := matching(t, sel); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("matched %v, want %v", got, tc.want)
			}
		})
	}
}

func TestParseSelectorErrors(t *testing.T) {
	for _, expr := range []string{"region in (eu", "=x", "bad key=1", "cores>four", "a=b c"} {
		t.Run(expr, func(t *testing.T) {
			_, err := ParseSelector("region=eu", expr)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("error is not ErrBadRequest: %v", err)
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != CodeBadRequest {
				t.Errorf("error is not a BadRequest *Error: %#v", err)
			}
		})
	}
}

func TestParseConstraints(t *testing.T) {
	cases := []struct {
		expr string
		want []*LabelSelectorRequirement
	}{
		{"", []*LabelSelectorRequirement{}},
		{"region in (us,eu,eu),zone=a", []*LabelSelectorRequirement{
			{Key: "region", Operator: "in", Values: []string{"eu", "us"}},
			{Key: "zone", Operator: "=", Values: []string{"a"}},
		}},
		{"gpu,!disk", []*LabelSelectorRequirement{
			{Key: "disk", Operator: "!"},
			{Key: "gpu", Operator: "exists"},
		}},
		{"cores>4, arch notin (arm64), a==b, c!=d", []*LabelSelectorRequirement{
			{Key: "a", Operator: "==", Values: []string{"b"}},
			{Key: "arch", Operator: "notin", Values: []string{"arm64"}},
			{Key: "c", Operator: "!=", Values: []string{"d"}},
			{Key: "cores", Operator: "gt", Values: []string{"4"}},
		}},
	}
	for _, tc := range cases {
		t.Run(tc.expr, func(t *testing.T) {
			got, err := ParseConstraints(tc.expr)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %s, want %s", show(got), show(tc.want))
			}
			// What the CLI builds passes submission validation.
			j := validJob()
			j.Constraints = got
			if err := j.ValidateSubmission(); err != nil {
				t.Fatal(err)
			}
		})
	}
	if _, err := ParseConstraints("region in ("); !errors.Is(err, ErrBadRequest) {
		t.Errorf("bad expression: %v", err)
	}
}

func show(cs []*LabelSelectorRequirement) string {
	s := "["
	for _, c := range cs {
		s += c.Key + " " + c.Operator + " " + fmtValues(c.Values) + "; "
	}
	return s + "]"
}

func TestConstraintSelectors(t *testing.T) {
	cases := []struct {
		name     string
		cs       []*LabelSelectorRequirement
		hard     []string // nodes the hard selector matches
		softKeys []string
	}{
		{"none", nil, []string{"eu-amd", "us-arm", "bare", "ap-gpu", "canary", "bad-int"}, nil},
		{"hard only", []*LabelSelectorRequirement{{Key: "region", Operator: "in", Values: []string{"eu", "us"}}},
			[]string{"eu-amd", "us-arm", "canary"}, nil},
		{"soft only", []*LabelSelectorRequirement{{Key: "favour_region", Operator: "=", Values: []string{"eu"}}},
			[]string{"eu-amd", "us-arm", "bare", "ap-gpu", "canary", "bad-int"}, []string{"region"}},
		{"split", []*LabelSelectorRequirement{
			{Key: "cores", Operator: "gt", Values: []string{"2"}},
			{Key: "favour_gpu", Operator: "exists"},
			nil,
			{Key: "arch", Operator: "NotIn", Values: []string{"arm64"}},
		}, []string{"eu-amd", "ap-gpu"}, []string{"gpu"}},
		{"not equals on absent key", []*LabelSelectorRequirement{{Key: "region", Operator: "!=", Values: []string{"eu"}}},
			[]string{"us-arm", "bare", "ap-gpu", "bad-int"}, nil},
		{"less than", []*LabelSelectorRequirement{{Key: "cores", Operator: "lt", Values: []string{"5"}}},
			[]string{"us-arm"}, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			hard, soft, err := ConstraintSelectors(tc.cs)
			if err != nil {
				t.Fatal(err)
			}
			if got := matching(t, hard); !reflect.DeepEqual(got, tc.hard) {
				t.Errorf("hard matched %v, want %v", got, tc.hard)
			}
			var keys []string
			for _, r := range soft {
				keys = append(keys, r.Key())
			}
			if !reflect.DeepEqual(keys, tc.softKeys) {
				t.Errorf("soft keys %v, want %v", keys, tc.softKeys)
			}
		})
	}
}

func TestConstraintSelectorsSoftMatching(t *testing.T) {
	_, soft, err := ConstraintSelectors([]*LabelSelectorRequirement{
		{Key: "favour_region", Operator: "=", Values: []string{"eu"}},
		{Key: "favour_cores", Operator: "gt", Values: []string{"6"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	rank := func(node string) int {
		n := 0
		for _, r := range soft {
			if r.Matches(nodeLabels[node]) {
				n++
			}
		}
		return n
	}
	for node, want := range map[string]int{"eu-amd": 2, "canary": 1, "ap-gpu": 1, "us-arm": 0, "bare": 0} {
		if got := rank(node); got != want {
			t.Errorf("%s matches %d soft constraints, want %d", node, got, want)
		}
	}
}

func TestConstraintSelectorsErrors(t *testing.T) {
	cases := []struct {
		name string
		cs   []*LabelSelectorRequirement
		want string
	}{
		{"unknown operator", []*LabelSelectorRequirement{{Key: "a", Operator: "~", Values: []string{"x"}}},
			`constraint 0: unknown operator "~"`},
		{"bad key", []*LabelSelectorRequirement{{Key: "ok", Operator: "exists"}, {Key: "bad key", Operator: "exists"}}, ""},
		{"empty favour key", []*LabelSelectorRequirement{{Key: "favour_", Operator: "exists"}}, ""},
		{"gt without integer", []*LabelSelectorRequirement{{Key: "a", Operator: "gt", Values: []string{"x"}}}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, _, err := ConstraintSelectors(tc.cs)
			if err == nil {
				t.Fatal("no error")
			}
			if !errors.Is(err, ErrBadRequest) {
				t.Errorf("error is not ErrBadRequest: %v", err)
			}
			if tc.want != "" && err.Error() != tc.want {
				t.Errorf("error %q, want %q", err, tc.want)
			}
			// What validation accepts, scheduling must accept too.
			j := validJob()
			j.Constraints = tc.cs
			if j.ValidateSubmission() == nil {
				t.Errorf("validation accepted constraints the selector refuses")
			}
		})
	}
}
