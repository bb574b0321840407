package input

import (
	"encoding/base64"
	"net/url"
	"os"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/engine"
)

type urlParams struct {
	URL string `json:"URL"`
}

func (f *Fetcher) fetchInline(params map[string]any, dir, target string) (engine.Mount, error) {
	var p urlParams
	if err := engine.DecodeParams(params, &p); err != nil {
		return engine.Mount{}, api.BadRequestf("inline input: %v", err)
	}
	data, err := DecodeDataURL(p.URL)
	if err != nil {
		return engine.Mount{}, err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return engine.Mount{}, err
	}
	dest := fileDest(dir, target)
	if err := os.WriteFile(dest, data, 0o644); err != nil {
		return engine.Mount{}, err
	}
	return engine.Mount{Source: dest, Target: target, ReadOnly: true}, nil
}

// DecodeDataURL returns the content of an RFC 2397 data: URL, base64 or
// percent-encoded.
func DecodeDataURL(raw string) ([]byte, error) {
	raw = strings.TrimSpace(raw)
	if len(raw) < 5 || !strings.EqualFold(raw[:5], "data:") {
		return nil, api.BadRequestf("inline input: URL is not a data: URL")
	}
	header, payload, ok := strings.Cut(raw[5:], ",")
	if !ok {
		return nil, api.BadRequestf("inline input: data: URL has no comma before its data")
	}
	// Percent-escapes are allowed in both forms; '+' is data, not a space.
	unescaped, err := url.PathUnescape(payload)
	if err != nil {
		return nil, api.BadRequestf("inline input: invalid percent-encoding: %v", err)
	}
	if !strings.HasSuffix(strings.ToLower(header), ";base64") {
		return []byte(unescaped), nil
	}
	compact := strings.Map(func(r rune) rune {
		if r == ' ' || r == '\n' || r == '\r' || r == '\t' {
			return -1
		}
		return r
	}, unescaped)
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if data, err := enc.DecodeString(compact); err == nil {
			return data, nil
		}
	}
	return nil, api.BadRequestf("inline input: invalid base64 data")
}
