package api

import (
	"bytes"
	stdjson "encoding/json"
	"net/http"
	"testing"

	json "github.com/goccy/go-json"
)

// FuzzJobSpec drives a submitted body through what a replica does with it
// before the job reaches Raft (server.createJob: decode, Normalize,
// ValidateSubmission, SanitizeSubmission, ApplyDefaults, Validate). It checks
// that nothing panics, that every refusal is a 4xx in the API's error shape,
// that Normalize is idempotent, and that an accepted job survives the trip
// through JSON (the Raft log and the state store) unchanged and still valid.
func FuzzJobSpec(f *testing.F) {
	for _, seed := range []string{
		`{"Job":{"Name":"hello","Type":"batch","Count":1,"Tasks":[{"Name":"main","Engine":{"Type":"docker","Params":{"Image":"ubuntu:22.04","Entrypoint":["echo"],"Parameters":["hi"]}}}]}}`,
		`{"Job":{"Type":"ops","Tasks":[{"Name":"t","Engine":{"Type":"noop"},"Resources":{"CPU":"500m","Memory":"1gb","Disk":"1Gi","GPU":"0"},"Timeouts":{"ExecutionTimeout":30,"QueueTimeout":5}}]}}`,
		`{"Job":{"Name":"w","Type":"service","ID":"web","Count":3,"Labels":{"env":"prod","example.com/team":"data"},"Meta":{"bacalhau.org/x":"y","k":"v"},"Constraints":[{"Key":"region","Operator":"in","Values":["eu","us"]},{"Key":"favour_zone","Operator":"=","Values":["a"]},{"Key":"gpu","Operator":"exists"}],"Tasks":[{"Name":"t","Engine":{"Type":"wasm","Params":{"EntryModule":{"Source":{"Type":"inline","Params":{"URL":"data:,x"}}}}},"Network":{"Type":"Host"}}]}}`,
		`{"Job":{"Type":"daemon","Tasks":[{"Name":"t","Engine":{"Type":"docker","Params":{"Image":"busybox"}},"Env":{"A":"1"},"InputSources":[{"Alias":"in","Target":"/in","Source":{"Type":"urlDownload","Params":{"URL":"http://example.com/x"}}},{"Target":"/data","Source":{"Type":"localDirectory","Params":{"SourcePath":"/srv","ReadWrite":true}}}],"ResultPaths":[{"Name":"out","Path":"/outputs"}],"Publisher":{"Type":"local"}}]},"IdempotencyToken":"tok"}`,
		`{"Job":{"Type":"batch","Count":-1,"State":{"StateType":"Running"},"Revision":3,"Version":2,"CreateTime":1,"Tasks":[{"Name":"a","Engine":{"Type":"docker"}},{"Name":"b"}]}}`,
		`{"Job":{"Type":"Batch","Constraints":[{"Key":"k","Operator":"Gt","Values":["1"]},{"Key":"","Operator":"bogus"}],"Tasks":[null]}}`,
		`{"Job":null}`,
		`{}`,
		`[]`,
		`{"Job":{"Tasks":[{"Resources":{"CPU":"-1","Memory":"1e400"}}]}}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req PutJobRequest
		// As the replica decodes a request body (server.decodeJSON).
		if !stdjson.Valid(body) {
			return
		}
		if err := UnmarshalJSON(body, &req); err != nil || req.Job == nil {
			return // the replica answers 400 before any job code runs
		}
		job := req.Job
		job.Normalize()
		once := mustMarshal(t, job)
		job.Normalize()
		if twice := mustMarshal(t, job); !bytes.Equal(once, twice) {
			t.Fatalf("Normalize is not idempotent:\nonce  %s\ntwice %s", once, twice)
		}
		if err := job.ValidateSubmission(); err != nil {
			check4xx(t, err)
			return
		}
		job.SanitizeSubmission()
		if job.ID == "" {
			job.ID = "j-00000000-0000-0000-0000-000000000000"
		}
		if job.Name == "" {
			job.Name = job.ID
		}
		job.ApplyDefaults(JobDefaults{ExecutionTimeout: 1800, QueueTimeout: 300})
		if job.Meta == nil {
			t.Fatal("ApplyDefaults left Meta nil; the replica writes the requester ID into it")
		}
		job.Meta[MetaRequesterID] = "n-fuzz"
		job.State = State[JobStateType]{StateType: JobStateTypePending}
		job.Version, job.Revision = 0, 1
		job.CreateTime, job.ModifyTime = 1, 1
		if err := job.Validate(); err != nil {
			check4xx(t, err)
			return
		}
		stored := mustMarshal(t, job)
		var back Job
		if err := json.Unmarshal(stored, &back); err != nil {
			t.Fatalf("an accepted job does not decode from its own JSON: %v\n%s", err, stored)
		}
		back.Normalize()
		if err := back.Validate(); err != nil {
			t.Fatalf("an accepted job is refused after a JSON round trip: %v\n%s", err, stored)
		}
		if again := mustMarshal(t, &back); !bytes.Equal(stored, again) {
			t.Fatalf("an accepted job changes through JSON:\nbefore %s\nafter  %s", stored, again)
		}
	})
}

// FuzzLabelSelector parses list filters (?labels=) and --constraints. A
// refusal is a 4xx; an accepted selector prints as a string that parses back
// to the same selector, and constraints made from an expression are accepted
// by the job validator and the scheduler's selector builder.
func FuzzLabelSelector(f *testing.F) {
	for _, seed := range []string{
		"env=prod", "env!=prod,tier in (web,db)", "region notin (eu)", "gpu", "!gpu",
		"x>1,y<2", "favour_zone=a", "a==b", "", " , ", "example.com/team=data",
		"k in ()", "in in (in)", "k=(", "x>y", strings256(),
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, expr string) {
		sel, err := ParseSelector(expr)
		if err != nil {
			check4xx(t, err)
		} else {
			printed := sel.String()
			again, err := ParseSelector(printed)
			if err != nil {
				t.Fatalf("selector %q prints as %q, which does not parse: %v", expr, printed, err)
			}
			if again.String() != printed {
				t.Fatalf("selector %q prints as %q, then as %q", expr, printed, again.String())
			}
		}
		cs, err := ParseConstraints(expr)
		if err != nil {
			check4xx(t, err)
			return
		}
		for _, c := range cs {
			c.Normalize()
		}
		if _, _, err := ConstraintSelectors(cs); err != nil {
			t.Fatalf("constraints parsed from %q are refused by ConstraintSelectors: %v", expr, err)
		}
	})
}

func strings256() string { return string(bytes.Repeat([]byte("a"), 256)) + "=b" }

func mustMarshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	return b
}

// check4xx fails unless err is answered as a client error in the API's
// error shape.
func check4xx(t *testing.T, err error) {
	t.Helper()
	status, body := StatusFor(err)
	if status < http.StatusBadRequest || status >= http.StatusInternalServerError {
		t.Fatalf("error %v is answered %d, want a 4xx", err, status)
	}
	if body.Status != status || body.Code == "" || body.Message == "" {
		t.Fatalf("error %v has body %+v, not the API's error shape", err, body)
	}
}
