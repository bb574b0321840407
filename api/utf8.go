package api

import (
	"reflect"
	"unicode/utf8"
)

// hasInvalidUTF8 reports whether any string in v (struct fields, map keys
// and values, slice elements, through pointers and interfaces) is not valid
// UTF-8. JSON cannot carry such a string: encoding turns its bad bytes into
// U+FFFD, so a job holding one would not read back as it was stored, and
// replicas that decoded it differently would disagree.
func hasInvalidUTF8(v any) bool { return invalidUTF8(reflect.ValueOf(v), 0) }

// maxUTF8Depth bounds the walk: job specs nest a few levels, and a cyclic
// value (none is built from JSON) must not recurse forever.
const maxUTF8Depth = 32

func invalidUTF8(v reflect.Value, depth int) bool {
	if !v.IsValid() || depth > maxUTF8Depth {
		return false
	}
	switch v.Kind() {
	case reflect.String:
		return !utf8.ValidString(v.String())
	case reflect.Pointer, reflect.Interface:
		return !v.IsNil() && invalidUTF8(v.Elem(), depth+1)
	case reflect.Struct:
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() && invalidUTF8(v.Field(i), depth+1) {
				return true
			}
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			if invalidUTF8(v.Index(i), depth+1) {
				return true
			}
		}
	case reflect.Map:
		it := v.MapRange()
		for it.Next() {
			if invalidUTF8(it.Key(), depth+1) || invalidUTF8(it.Value(), depth+1) {
				return true
			}
		}
	}
	return false
}

// NeedsStdJSON reports whether JSON text should be decoded by encoding/json
// rather than goccy: it holds bytes that are not valid UTF-8, or a \u escape
// of a UTF-16 surrogate (which may stand alone). encoding/json turns both
// into U+FFFD, so what it decodes encodes back to the same text; goccy keeps
// raw bytes that an encoder then rewrites, so a value would change between a
// write and its read. Text without either (nearly all of it) decodes the
// same with both, and goccy is faster.
func NeedsStdJSON(b []byte) bool {
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
