package main

import (
	"net/url"
	"path"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// defaultInputDir is where an input given without a target lands.
const defaultInputDir = "/inputs"

// parseInput reads an --input value (see inputHelp).
func parseInput(spec string) (*api.InputSource, error) {
	s := strings.TrimSpace(spec)
	lower := strings.ToLower(s)
	switch {
	case strings.HasPrefix(lower, "url="):
		return urlInput(spec, s[len("url="):])
	case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
		return urlInput(spec, s)
	case strings.HasPrefix(lower, "inline="):
		return inlineInput(spec, s[len("inline="):])
	case strings.HasPrefix(lower, "data:"):
		return inlineInput(spec, s)
	case strings.HasPrefix(lower, "file="):
		return fileInput(spec, s[len("file="):])
	case strings.HasPrefix(lower, "file://"):
		return fileInput(spec, s[len("file://"):])
	}
	return nil, usageErrorf("invalid --input %q: want url=URL[:TARGET], inline=DATA-URL:TARGET or file=HOST-PATH[:TARGET][:rw]", spec)
}

// splitTarget cuts the target off an input: the part after the last colon,
// when it is an absolute path (and not the "//" of a URL scheme).
func splitTarget(s string) (source, target string) {
	i := strings.LastIndex(s, ":")
	if i <= 0 {
		return s, ""
	}
	rest := s[i+1:]
	if !strings.HasPrefix(rest, "/") || strings.HasPrefix(rest, "//") {
		return s, ""
	}
	return s[:i], rest
}

func urlInput(spec, s string) (*api.InputSource, error) {
	raw, target := splitTarget(s)
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageErrorf("invalid --input %q: %q is not an http or https URL", spec, raw)
	}
	if target == "" {
		base := path.Base(u.Path)
		if base == "/" || base == "." || base == "" {
			return nil, usageErrorf("invalid --input %q: the URL names no file; give a target: url=%s:/inputs/NAME", spec, raw)
		}
		target = path.Join(defaultInputDir, base)
	}
	return &api.InputSource{
		Source: &api.SpecConfig{Type: api.StorageURLDownload, Params: map[string]any{"URL": raw}},
		Target: target,
	}, nil
}

func inlineInput(spec, s string) (*api.InputSource, error) {
	raw, target := splitTarget(s)
	if !strings.HasPrefix(strings.ToLower(raw), "data:") || !strings.Contains(raw, ",") {
		return nil, usageErrorf("invalid --input %q: inline content must be a data: URL, e.g. data:text/plain;base64,aGk=", spec)
	}
	if target == "" {
		return nil, usageErrorf("invalid --input %q: inline content needs a target: inline=%s:/inputs/NAME", spec, raw)
	}
	return &api.InputSource{
		Source: &api.SpecConfig{Type: api.StorageInline, Params: map[string]any{"URL": raw}},
		Target: target,
	}, nil
}

func fileInput(spec, s string) (*api.InputSource, error) {
	readWrite := false
	switch {
	case strings.HasSuffix(s, ":rw"):
		s, readWrite = strings.TrimSuffix(s, ":rw"), true
	case strings.HasSuffix(s, ":ro"):
		s = strings.TrimSuffix(s, ":ro")
	}
	source, target := splitTarget(s)
	if !strings.HasPrefix(source, "/") {
		return nil, usageErrorf("invalid --input %q: the host path must be absolute", spec)
	}
	if target == "" {
		base := path.Base(source)
		if base == "/" {
			return nil, usageErrorf("invalid --input %q: give a target: file=%s:/inputs/NAME", spec, source)
		}
		target = path.Join(defaultInputDir, base)
	}
	params := map[string]any{"SourcePath": source}
	if readWrite {
		params["ReadWrite"] = true
	}
	return &api.InputSource{
		Source: &api.SpecConfig{Type: api.StorageLocalDirectory, Params: params},
		Target: target,
	}, nil
}
