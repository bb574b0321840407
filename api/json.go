package api

import (
	stdjson "encoding/json"
	"unicode/utf8"

	json "github.com/goccy/go-json"
)

// UnmarshalJSON decodes JSON text the way every replica must: with goccy,
// which is fast, unless the text holds bytes that are not valid UTF-8 or a
// \u escape of a UTF-16 surrogate (which may stand alone). Those go to
// encoding/json, which turns both into U+FFFD; goccy would keep raw bytes
// that an encoder then rewrites, so a value would change between a write
// and its read, and a replica restored from a snapshot would differ from
// one that applied the log. The choice depends only on the text, so every
// replica decoding the same bytes makes it alike.
//
// goccy panics on some malformed input: callers decoding text from outside
// check it with encoding/json's Valid first.
func UnmarshalJSON(data []byte, v any) error {
	if needsStdJSON(data) {
		return stdjson.Unmarshal(data, v)
	}
	return json.Unmarshal(data, v)
}

func needsStdJSON(b []byte) bool {
	if !utf8.Valid(b) {
		return true
	}
	for i := 0; i+5 < len(b); i++ {
		if b[i] == '\\' && b[i+1] == 'u' && (b[i+2] == 'd' || b[i+2] == 'D') {
			switch b[i+3] {
			case '8', '9', 'a', 'b', 'c', 'd', 'e', 'f', 'A', 'B', 'C', 'D', 'E', 'F':
				return true
			}
		}
	}
	return false
}
