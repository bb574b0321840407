package api

import "strings"

// Engine types a task may name in Engine.Type (compared case-insensitively).
const (
	EngineDocker = "docker"
	EngineWasm   = "wasm"
	EngineNoop   = "noop"
)

// Publisher types a task may name in Publisher.Type; empty means noop.
const (
	PublisherNoop  = "noop"
	PublisherLocal = "local"
	PublisherS3    = "s3"
	PublisherIPFS  = "ipfs"
)

// Input source types (SpecConfig.Type of an InputSource). Compute nodes list
// the ones they can fetch in StorageSources; names compare case-insensitively
// ("urlDownload" and "urldownload" are the same source).
const (
	StorageInline         = "inline"
	StorageURLDownload    = "urlDownload"
	StorageLocalDirectory = "localDirectory"
	StorageS3             = "s3"
	StorageIPFS           = "ipfs"
)

var (
	knownEngines    = []string{EngineDocker, EngineWasm, EngineNoop}
	knownPublishers = []string{PublisherNoop, PublisherLocal, PublisherS3, PublisherIPFS}
	knownStorages   = []string{StorageInline, StorageURLDownload, StorageLocalDirectory, StorageS3, StorageIPFS}
)

// canonicalName returns the spelling in known that name matches, whatever
// its case and surrounding spaces.
func canonicalName(known []string, name string) (string, bool) {
	name = strings.TrimSpace(name)
	for _, k := range known {
		if strings.EqualFold(k, name) {
			return k, true
		}
	}
	return "", false
}

// param looks a parameter up by name, as upstream decodes Params: an exact
// key first, then any key equal under case folding.
func (s *SpecConfig) param(name string) (any, bool) {
	if s == nil || s.Params == nil {
		return nil, false
	}
	if v, ok := s.Params[name]; ok {
		return v, true
	}
	for k, v := range s.Params {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// stringParam returns a parameter that must be a non-blank string.
func (s *SpecConfig) stringParam(name string) (string, bool) {
	v, ok := s.param(name)
	if !ok {
		return "", false
	}
	str, ok := v.(string)
	if !ok || strings.TrimSpace(str) == "" {
		return "", false
	}
	return str, true
}
