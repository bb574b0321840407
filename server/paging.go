package server

import (
	"encoding/base64"
	"encoding/json"
	"slices"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// offsetToken pages through small lists sorted in memory (a job's
// executions, the nodes). It records the order it was made for, so a token
// carries its paging on by itself, as upstream's tokens do.
type offsetToken struct {
	List    string `json:"l"`
	OrderBy string `json:"o"`
	Reverse bool   `json:"r"`
	Limit   int    `json:"n"`
	Offset  int    `json:"f"`
}

func (t offsetToken) encode() string {
	b, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodeOffsetToken(s, list string) (offsetToken, error) {
	var t offsetToken
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err == nil {
		err = json.Unmarshal(b, &t)
	}
	if err != nil || t.List != list || t.Offset < 0 || t.Limit < 0 {
		return t, api.BadRequestf("invalid next_token %q", s)
	}
	return t, nil
}

// page cuts one page out of a sorted list and returns the token for the
// next one ("" when this is the last).
func page[T any](items []T, tok offsetToken) ([]T, string) {
	if tok.Offset >= len(items) {
		return []T{}, ""
	}
	end := len(items)
	if tok.Limit > 0 && tok.Offset+tok.Limit < end {
		end = tok.Offset + tok.Limit
	}
	out := items[tok.Offset:end]
	if end >= len(items) {
		return out, ""
	}
	next := tok
	next.Offset = end
	return out, next.encode()
}

// sortPage sorts a copy of items by order (ties broken by key, so pages are
// stable), reversed when the token says so, and cuts the token's page.
func sortPage[T any](items []T, tok offsetToken, order func(a, b T) int, key func(T) string) ([]T, string) {
	sorted := slices.Clone(items)
	slices.SortStableFunc(sorted, func(a, b T) int {
		c := order(a, b)
		if c == 0 {
			c = strings.Compare(key(a), key(b))
		}
		if tok.Reverse {
			c = -c
		}
		return c
	})
	return page(sorted, tok)
}
