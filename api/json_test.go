package api

import (
	"testing"

	json "github.com/goccy/go-json"
)

func TestUnmarshalJSON(t *testing.T) {
	tests := []struct {
		name, text string
		std        bool
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
			if got := needsStdJSON([]byte(tt.text)); got != tt.std {
				t.Fatalf("needsStdJSON = %t, want %t", got, tt.std)
			}
			// What it decodes encodes back to text that decodes to the
			// same value: a stored value reads back as it was.
			var v map[string]string
			if err := UnmarshalJSON([]byte(tt.text), &v); err != nil {
				t.Fatal(err)
			}
			once, _ := json.Marshal(v)
			var back map[string]string
			if err := UnmarshalJSON(once, &back); err != nil {
				t.Fatal(err)
			}
			if twice, _ := json.Marshal(back); string(once) != string(twice) {
				t.Fatalf("changes through JSON: %s then %s", once, twice)
			}
		})
	}
}
