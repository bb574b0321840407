package api

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeFillsTheWireShape(t *testing.T) {
	j := &Job{Type: " Batch ", Name: " hello ", Tasks: []*Task{{Name: " main ", Engine: &SpecConfig{Type: " docker "}}}}
	j.Normalize()
	got, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	// The spec page's describe example: every collection present, empty.
	want := `{"ID":"","Name":"hello","Namespace":"default","Type":"batch","Priority":0,"Count":0,` +
		`"Constraints":[],"Meta":{},"Labels":{},"Tasks":[{"Name":"main","Engine":{"Type":"docker","Params":{}},` +
		`"Publisher":{"Type":"","Params":{}},"Env":{},"Meta":{},"InputSources":[],"ResultPaths":[],` +
		`"Resources":{"CPU":"","Memory":"","Disk":"","GPU":""},"Network":{"Type":"None"},"Timeouts":{}}],` +
		`"State":{"StateType":"Undefined","Message":""},"Version":0,"Revision":0,"CreateTime":0,"ModifyTime":0}`
	if string(got) != want {
		t.Fatalf("normalized job:\n%s\nwant:\n%s", got, want)
	}
}

func TestNormalize(t *testing.T) {
	cases := []struct {
		name  string
		job   *Job
		check func(j *Job) any
		want  any
	}{
		{"namespace defaults", &Job{}, func(j *Job) any { return j.Namespace }, "default"},
		{"namespace trimmed", &Job{Namespace: " team "}, func(j *Job) any { return j.Namespace }, "team"},
		{"type lowercased", &Job{Type: "DAEMON"}, func(j *Job) any { return j.Type }, "daemon"},
		{"ID trimmed", &Job{ID: " web "}, func(j *Job) any { return j.ID }, "web"},
		{"ops count 0 becomes 1", &Job{Type: "ops"}, func(j *Job) any { return j.Count }, 1},
		{"daemon count 0 becomes 1", &Job{Type: "Daemon"}, func(j *Job) any { return j.Count }, 1},
		{"ops count kept", &Job{Type: "ops", Count: 3}, func(j *Job) any { return j.Count }, 3},
		{"batch count 0 kept", &Job{Type: "batch"}, func(j *Job) any { return j.Count }, 0},
		{"service count 0 kept", &Job{Type: "service"}, func(j *Job) any { return j.Count }, 0},
		{"resources compacted", &Job{Tasks: []*Task{{Resources: &ResourcesConfig{CPU: " 500 M ", Memory: "1 Gi B", Disk: "10 GB", GPU: " 1 "}}}},
			func(j *Job) any { return *j.Tasks[0].Resources },
			ResourcesConfig{CPU: "500m", Memory: "1gib", Disk: "10gb", GPU: "1"}},
		{"operators spelled as the selector package does", &Job{Constraints: []*LabelSelectorRequirement{
			{Key: " a ", Operator: "In", Values: []string{" x "}}, {Key: "b", Operator: "DoesNotExist"},
			{Key: "c", Operator: " NotIn "}, {Key: "d", Operator: "Gt"}, {Key: "e", Operator: "=="}, {Key: "f", Operator: " ~ "},
		}}, func(j *Job) any {
			var ops []string
			for _, c := range j.Constraints {
				ops = append(ops, c.Key+c.Operator+fmtValues(c.Values))
			}
			return ops
		}, []string{"ain[x]", "b![]", "cnotin[]", "dgt[]", "e==[]", "f~[]"}},
		{"domains lowercased", &Job{Tasks: []*Task{{Network: &NetworkConfig{Type: NetworkHTTP, Domains: []string{" Example.COM "}}}}},
			func(j *Job) any { return j.Tasks[0].Network.Domains }, []string{"example.com"}},
		{"network kept", &Job{Tasks: []*Task{{Network: &NetworkConfig{Type: NetworkFull}}}},
			func(j *Job) any { return j.Tasks[0].Network.Type }, NetworkFull},
		{"input source normalized", &Job{Tasks: []*Task{{InputSources: []*InputSource{{Alias: " a ", Target: " /t ", Source: &SpecConfig{Type: " s3 "}}}}}},
			func(j *Job) any {
				in := j.Tasks[0].InputSources[0]
				return in.Alias + in.Target + in.Source.Type
			},
			"a/ts3"},
		{"nil parts stay nil for validation", &Job{Tasks: []*Task{nil, {Engine: nil, InputSources: []*InputSource{nil, {}}, ResultPaths: []*ResultPath{nil}}}},
			func(j *Job) any {
				return []bool{j.Tasks[0] == nil, j.Tasks[1].Engine == nil, j.Tasks[1].InputSources[0] == nil, j.Tasks[1].InputSources[1].Source == nil, j.Tasks[1].ResultPaths[0] == nil}
			}, []bool{true, true, true, true, true}},
		{"existing maps kept", &Job{Meta: map[string]string{"a": "b"}, Labels: map[string]string{"c": "d"}},
			func(j *Job) any { return j.Meta["a"] + j.Labels["c"] }, "bd"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.job.Normalize()
			if got := tc.check(tc.job); !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %#v, want %#v", got, tc.want)
			}
		})
	}
}

func fmtValues(v []string) string { return "[" + strings.Join(v, ",") + "]" }

func TestNormalizeIdempotent(t *testing.T) {
	jobs := []*Job{
		{},
		{Type: "OPS", Namespace: " x ", Tasks: []*Task{nil, {Name: " t ", Engine: &SpecConfig{Type: " wasm "},
			Resources: &ResourcesConfig{CPU: "1 000 m"}, Network: &NetworkConfig{Domains: []string{" A.b "}},
			InputSources: []*InputSource{{Source: &SpecConfig{Type: "inline"}}}}},
			Constraints: []*LabelSelectorRequirement{nil, {Key: " k ", Operator: "Exists"}}},
	}
	for i, j := range jobs {
		j.Normalize()
		once, err := json.Marshal(j)
		if err != nil {
			t.Fatal(err)
		}
		j.Normalize()
		twice, _ := json.Marshal(j)
		if string(once) != string(twice) {
			t.Errorf("job %d changed on a second Normalize:\n%s\n%s", i, once, twice)
		}
	}
}

func TestNormalizeNil(t *testing.T) {
	var j *Job
	j.Normalize() // must not panic
	var task *Task
	task.Normalize()
	var s *SpecConfig
	s.Normalize()
}
