package api

import (
	"crypto/rand"
	"encoding/hex"
	"strings"
)

// Prefixes of generated IDs, as upstream.
const (
	JobIDPrefix       = "j-"
	ExecutionIDPrefix = "e-"
	NodeIDPrefix      = "n-"
)

// shortIDLength is how many characters of an ID's random part a short ID
// keeps: upstream's CLI shows j-1a2b3c4d, and users paste those back.
const shortIDLength = 8

// NewJobID returns a new job ID, j-<uuid v4>.
func NewJobID() string { return JobIDPrefix + newUUID() }

// NewExecutionID returns a new execution ID, e-<uuid v4>.
func NewExecutionID() string { return ExecutionIDPrefix + newUUID() }

// NewEvalID returns a new evaluation ID: a bare uuid v4, as upstream's
// submit, stop and callback evaluations.
func NewEvalID() string { return newUUID() }

// NewNodeID returns a new node ID, n-<uuid v4>, upstream's default for nodes
// that are not given a name.
func NewNodeID() string { return NodeIDPrefix + newUUID() }

// ShortID is the display form of an ID: a prefixed UUID keeps its prefix and
// the first 8 characters of the UUID (j-1a2b3c4d); any other ID (a bare
// UUID, a libp2p peer ID, a user-chosen name) is cut to its first 8
// characters.
func ShortID(id string) string {
	if prefix, rest, ok := strings.Cut(id, "-"); ok && prefix != "" && isUUID(rest) {
		return prefix + "-" + rest[:shortIDLength]
	}
	if len(id) <= shortIDLength {
		return id
	}
	return id[:shortIDLength]
}

// newUUID returns a random (version 4) UUID in its canonical text form. It is
// written here rather than imported so that api depends only on the standard
// library and the label selector package.
func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])  // crypto/rand.Read never fails; it aborts the program instead.
	b[6] = b[6]&0x0f | 0x40 // version 4
	b[8] = b[8]&0x3f | 0x80 // RFC 4122 variant
	var s [36]byte
	hex.Encode(s[0:8], b[0:4])
	s[8] = '-'
	hex.Encode(s[9:13], b[4:6])
	s[13] = '-'
	hex.Encode(s[14:18], b[6:8])
	s[18] = '-'
	hex.Encode(s[19:23], b[8:10])
	s[23] = '-'
	hex.Encode(s[24:], b[10:])
	return string(s[:])
}

// isUUID reports whether s is a UUID in canonical 8-4-4-4-12 hex form.
func isUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !isHex(c) {
				return false
			}
		}
	}
	return true
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
