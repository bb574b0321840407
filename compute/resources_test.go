package compute

import (
	"errors"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestTaskLimits(t *testing.T) {
	alloc := &api.AllocatedResources{Tasks: map[string]*api.Resources{"main": {CPU: 0.5, Memory: 1e9}}}
	tests := []struct {
		name    string
		alloc   *api.AllocatedResources
		rc      *api.ResourcesConfig
		want    api.Resources
		wantErr bool
	}{
		{name: "nothing asked", alloc: alloc, rc: nil, want: api.Resources{}},
		{name: "defaults reserved but not asked", alloc: alloc, rc: &api.ResourcesConfig{}, want: api.Resources{}},
		{name: "asked: the allocation wins", alloc: alloc, rc: &api.ResourcesConfig{CPU: "1", Memory: "2gb"}, want: api.Resources{CPU: 0.5, Memory: 1e9}},
		{name: "asked, no allocation: parsed", rc: &api.ResourcesConfig{CPU: "250m", Memory: "64mib"}, want: api.Resources{CPU: 0.25, Memory: 64 << 20}},
		{name: "only memory asked", alloc: alloc, rc: &api.ResourcesConfig{Memory: "1gb"}, want: api.Resources{Memory: 1e9}},
		{name: "unparsable", rc: &api.ResourcesConfig{Memory: "lots"}, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := taskLimits(&api.Execution{AllocatedResources: tt.alloc}, &api.Task{Name: "main", Resources: tt.rc})
			if tt.wantErr {
				if !errors.Is(err, api.ErrBadRequest) {
					t.Fatalf("error = %v", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("limits = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
