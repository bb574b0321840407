package main

import (
	"strings"
	"testing"
)

func TestExposureWarning(t *testing.T) {
	tests := []struct {
		addr        string
		dev         bool
		tls, acl    bool
		wantMention []string // empty: no warning
	}{
		{addr: "127.0.0.1:1234"},
		{addr: "127.0.0.2:1234"},
		{addr: "[::1]:1234"},
		{addr: "localhost:1234"},
		{addr: "0.0.0.0:1234", dev: true},
		{addr: "0.0.0.0:1234", tls: true, acl: true},
		{addr: "0.0.0.0:1234", wantMention: []string{"--tls-cert-file", "--acl"}},
		{addr: ":1234", wantMention: []string{"--tls-cert-file", "--acl"}},
		{addr: "[::]:1234", wantMention: []string{"--tls-cert-file", "--acl"}},
		{addr: "10.0.0.5:1234", tls: true, wantMention: []string{"--acl"}},
		{addr: "replica-1:1234", acl: true, wantMention: []string{"--tls-cert-file"}},
	}
	for _, tt := range tests {
		got := exposureWarning(tt.addr, tt.dev, tt.tls, tt.acl)
		if len(tt.wantMention) == 0 {
			if got != "" {
				t.Errorf("%s dev=%t tls=%t acl=%t: warned %q", tt.addr, tt.dev, tt.tls, tt.acl, got)
			}
			continue
		}
		for _, m := range tt.wantMention {
			if !strings.Contains(got, m) {
				t.Errorf("%s tls=%t acl=%t: warning %q does not name %s", tt.addr, tt.tls, tt.acl, got, m)
			}
		}
		if tt.tls && strings.Contains(got, "--tls-cert-file") || tt.acl && strings.Contains(got, "--acl") {
			t.Errorf("%s tls=%t acl=%t: warning %q names what is already on", tt.addr, tt.tls, tt.acl, got)
		}
	}
}
