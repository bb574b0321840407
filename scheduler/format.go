package scheduler

import (
	"strconv"
	"strings"

	"github.com/shoal-io/shoal/api"
)

// formatResources prints the dimensions that are set, for messages.
func formatResources(r api.Resources) string {
	parts := make([]string, 0, 4)
	if r.CPU > 0 {
		parts = append(parts, "cpu "+strconv.FormatFloat(r.CPU, 'g', 4, 64))
	}
	if r.Memory > 0 {
		parts = append(parts, "memory "+api.FormatBytes(r.Memory))
	}
	if r.Disk > 0 {
		parts = append(parts, "disk "+api.FormatBytes(r.Disk))
	}
	if r.GPU > 0 {
		parts = append(parts, "gpu "+strconv.FormatUint(r.GPU, 10))
	}
	if len(parts) == 0 {
		return "nothing"
	}
	return strings.Join(parts, ", ")
}
