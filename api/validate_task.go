package api

import (
	"fmt"
	"net/url"
	"path"
	"strings"
)

// problems lists what is wrong with a task, each line ready to follow
// "task <name> validation failed: ".
func (t *Task) problems() []string {
	var p []string
	switch name := strings.TrimSpace(t.Name); {
	case name == "":
		p = append(p, "missing task name")
	case hasControl(name):
		p = append(p, "task name must not contain control characters")
	}
	p = append(p, prefixed("engine validation failed: ", engineProblems(t.Engine))...)
	p = append(p, prefixed("publisher validation failed: ", publisherProblems(t.Publisher))...)
	if len(t.ResultPaths) > 0 && (t.Publisher == nil || strings.TrimSpace(t.Publisher.Type) == "") {
		p = append(p, "publisher must be set if result paths are set")
	}
	p = append(p, envProblems(t.Env)...)
	p = append(p, inputProblems(t.InputSources)...)
	p = append(p, resultPathProblems(t.ResultPaths)...)
	if _, err := t.Resources.Parse(); err != nil {
		p = append(p, prefixed("task resources validation failed: ", strings.Split(err.Error(), "\n"))...)
	}
	p = append(p, prefixed("task network validation failed: ", t.Network.problems())...)
	p = append(p, prefixed("task timeouts validation failed: ", t.Timeouts.problems())...)
	return p
}

func engineProblems(e *SpecConfig) []string {
	if e == nil {
		return []string{"nil spec config"}
	}
	if strings.TrimSpace(e.Type) == "" {
		return []string{"missing spec type"}
	}
	engine, ok := canonicalName(knownEngines, e.Type)
	if !ok {
		return []string{fmt.Sprintf("unsupported engine type %q: want docker, wasm or noop", strings.TrimSpace(e.Type))}
	}
	switch engine {
	case EngineDocker:
		if _, ok := e.stringParam("Image"); !ok {
			return []string{"docker engine requires Params.Image, the image to run"}
		}
	case EngineWasm:
		module, ok := e.param("EntryModule")
		if !ok || module == nil {
			return []string{"wasm engine requires Params.EntryModule, an input source holding the module"}
		}
		if msg := entryModuleProblem(module); msg != "" {
			return []string{"invalid Params.EntryModule: " + msg}
		}
	}
	return nil
}

// entryModuleProblem checks a wasm EntryModule, an InputSource as decoded
// from JSON: {"Source":{"Type":…,"Params":…},"Target":…}.
func entryModuleProblem(module any) string {
	var source *SpecConfig
	switch m := module.(type) {
	case *InputSource:
		source = m.Source
	case InputSource:
		source = m.Source
	case map[string]any:
		raw, _ := (&SpecConfig{Params: m}).param("Source")
		src, ok := raw.(map[string]any)
		if !ok {
			return "missing Source, an object with Type and Params"
		}
		holder := &SpecConfig{Params: src}
		typ, _ := holder.param("Type")
		params, _ := holder.param("Params")
		source = &SpecConfig{}
		source.Type, _ = typ.(string)
		source.Params, _ = params.(map[string]any)
	default:
		return "must be an input source: {\"Source\":{\"Type\":…,\"Params\":…}}"
	}
	return sourceProblem(source)
}

func publisherProblems(pub *SpecConfig) []string {
	// A missing publisher means none (noop): Normalize makes it
	// {"Type":"","Params":{}}.
	if pub == nil || strings.TrimSpace(pub.Type) == "" {
		return nil
	}
	if _, ok := canonicalName(knownPublishers, pub.Type); !ok {
		return []string{fmt.Sprintf("unsupported publisher type %q: want noop, local, s3 or ipfs", strings.TrimSpace(pub.Type))}
	}
	return nil
}

func envProblems(env map[string]string) []string {
	var p []string
	for _, k := range sortedKeys(env) {
		if strings.TrimSpace(k) == "" || strings.ContainsAny(k, "=\x00") {
			p = append(p, fmt.Sprintf("invalid environment variable name %q", k))
		}
	}
	return p
}

func inputProblems(inputs []*InputSource) []string {
	var p []string
	aliases := map[string]bool{}
	targets := map[string]bool{}
	for _, in := range inputs {
		if in == nil {
			p = append(p, "artifact validation failed: nil input source")
			continue
		}
		target := strings.TrimSpace(in.Target)
		if target == "" {
			p = append(p, "artifact validation failed: missing artifact target")
		}
		if msg := sourceProblem(in.Source); msg != "" {
			p = append(p, "artifact validation failed: invalid artifact source: "+msg)
		}
		if alias := strings.TrimSpace(in.Alias); alias != "" {
			if aliases[alias] {
				p = append(p, fmt.Sprintf("input source with alias '%s' already exists", alias))
			}
			aliases[alias] = true
		}
		if target != "" {
			if targets[target] {
				p = append(p, fmt.Sprintf("input source with target '%s' already exists", target))
			}
			targets[target] = true
		}
	}
	return p
}

// sourceProblem checks an input source's type and the parameters without
// which no compute node could fetch it.
func sourceProblem(s *SpecConfig) string {
	if s == nil {
		return "nil spec config"
	}
	if strings.TrimSpace(s.Type) == "" {
		return "missing spec type"
	}
	kind, ok := canonicalName(knownStorages, s.Type)
	if !ok {
		return fmt.Sprintf("unsupported input source type %q: want inline, urlDownload, localDirectory, s3 or ipfs",
			strings.TrimSpace(s.Type))
	}
	switch kind {
	case StorageURLDownload:
		raw, _ := s.stringParam("URL")
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "urlDownload needs Params.URL, an http or https URL"
		}
	case StorageInline:
		raw, _ := s.stringParam("URL")
		if !strings.HasPrefix(strings.ToLower(strings.TrimSpace(raw)), "data:") {
			return "inline needs Params.URL, a data: URL holding the content"
		}
	case StorageLocalDirectory:
		if _, ok := s.stringParam("SourcePath"); !ok {
			return "localDirectory needs Params.SourcePath"
		}
	case StorageS3:
		if _, ok := s.stringParam("Bucket"); !ok {
			return "s3 needs Params.Bucket"
		}
	case StorageIPFS:
		if _, ok := s.stringParam("CID"); !ok {
			return "ipfs needs Params.CID"
		}
	}
	return ""
}

func resultPathProblems(paths []*ResultPath) []string {
	var p []string
	names := map[string]bool{}
	seen := map[string]bool{}
	for _, rp := range paths {
		if rp == nil {
			p = append(p, "output validation failed: nil result path")
			continue
		}
		name, where := strings.TrimSpace(rp.Name), strings.TrimSpace(rp.Path)
		if name == "" {
			p = append(p, "output validation failed: missing name")
		}
		switch {
		case where == "":
			p = append(p, "output validation failed: missing path")
		case !path.IsAbs(where):
			p = append(p, fmt.Sprintf("output validation failed: result path '%s' must be absolute", where))
		}
		if name != "" {
			if names[name] {
				p = append(p, fmt.Sprintf("result path with name '%s' already exists", name))
			}
			names[name] = true
		}
		if where != "" {
			if seen[where] {
				p = append(p, fmt.Sprintf("result path '%s' already exists", where))
			}
			seen[where] = true
		}
	}
	return p
}

func (n *NetworkConfig) problems() []string {
	if n == nil {
		return nil
	}
	var p []string
	switch n.Type {
	case NetworkNone, NetworkFull, NetworkHTTP:
	default:
		p = append(p, fmt.Sprintf("invalid network type %d: want None, Full or HTTP", int(n.Type)))
	}
	if n.Type == NetworkNone && len(n.Domains) > 0 {
		p = append(p, "domains cannot be set when the network type is None")
	}
	for _, d := range n.Domains {
		d = strings.TrimSpace(d)
		if d == "" || strings.ContainsAny(d, "/:@") || strings.ContainsFunc(d, isSpaceOrControl) {
			p = append(p, fmt.Sprintf("invalid domain %q", d))
		}
	}
	return p
}

func (tc *TimeoutConfig) problems() []string {
	if tc == nil {
		return nil
	}
	var p []string
	for _, f := range []struct {
		name  string
		value int64
	}{{"execution", tc.ExecutionTimeout}, {"queue", tc.QueueTimeout}, {"total", tc.TotalTimeout}} {
		switch {
		case f.value < 0:
			p = append(p, fmt.Sprintf("invalid %s timeout value: %d: must be >= 0", f.name, f.value))
		case f.value > MaxTimeoutSeconds:
			p = append(p, fmt.Sprintf("invalid %s timeout value: %d: must be <= %d", f.name, f.value, MaxTimeoutSeconds))
		}
	}
	return p
}

// sumProblem reports a task that could never finish within its total
// timeout: a queue and run that fill their allowance would exceed it.
func (tc *TimeoutConfig) sumProblem() string {
	if tc == nil || tc.TotalTimeout <= 0 || tc.ExecutionTimeout < 0 || tc.QueueTimeout < 0 {
		return ""
	}
	if tc.ExecutionTimeout > tc.TotalTimeout-tc.QueueTimeout {
		return fmt.Sprintf("execution timeout (%d) plus queue timeout (%d) exceeds total timeout (%d)",
			tc.ExecutionTimeout, tc.QueueTimeout, tc.TotalTimeout)
	}
	return ""
}
