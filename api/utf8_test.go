package api

import (
	stdjson "encoding/json"
	"testing"

	json "github.com/goccy/go-json"
)

func TestNeedsStdJSON(t *testing.T) {
	tests := []struct {
		name, text string
		want       bool
	}{
		{"plain", `{"a":"b"}`, false},
		{"escapes", `{"a":"\u003c\n\u00e9"}`, false},
		{"non-ASCII", `{"a":"héllo, 世界"}`, false},
		{"invalid byte", "{\"a\":\"\xff\"}", true},
		{"cut rune", "{\"a\":\"\xe4\xb8\"}", true},
		{"lone high surrogate", `{"a":"\ud800"}`, true},
		{"surrogate pair", `{"a":"\uD83D\uDE00"}`, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NeedsStdJSON([]byte(tt.text)); got != tt.want {
				t.Fatalf("NeedsStdJSON = %t, want %t", got, tt.want)
			}
			// What the chosen decoder reads encodes back to text that
			// decodes to the same value: a stored value reads back as it was.
			var v map[string]string
			if tt.want {
				if err := stdjson.Unmarshal([]byte(tt.text), &v); err != nil {
					t.Fatal(err)
				}
			} else if err := json.Unmarshal([]byte(tt.text), &v); err != nil {
				t.Fatal(err)
			}
			once, _ := json.Marshal(v)
			var back map[string]string
			if err := json.Unmarshal(once, &back); err != nil {
				t.Fatal(err)
			}
			if twice, _ := json.Marshal(back); string(once) != string(twice) {
				t.Fatalf("changes through JSON: %s then %s", once, twice)
			}
		})
	}
}

func TestHasInvalidUTF8(t *testing.T) {
	job := &Job{Name: "ok", Meta: map[string]string{"k": "v"}, Tasks: []*Task{{Name: "t", Env: map[string]string{"A": "1"}}}}
	if hasInvalidUTF8(job) {
		t.Fatal("a valid job reported invalid")
	}
	job.Tasks[0].Env["A"] = "\xff"
	if !hasInvalidUTF8(job) {
		t.Fatal("an invalid env value was missed")
	}
	job.Tasks[0].Env["A"] = "1"
	job.Meta["\xfe"] = ""
	if !hasInvalidUTF8(job) {
		t.Fatal("an invalid meta key was missed")
	}
}
