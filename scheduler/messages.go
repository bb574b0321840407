package scheduler

import (
	"fmt"
	"sort"
	"strings"
)

// maxNodeLines bounds the per-node lines in a job message: with thousands of
// nodes the rest are summed up by reason.
const maxNodeLines = 20

// shortReason is a rejection kind in a few words, for summaries.
func shortReason(kind rejectKind, req *requirements) string {
	switch kind {
	case rejectUnusable:
		return "unavailable"
	case rejectEngine:
		return "without engine " + req.engine
	case rejectPublisher:
		return "without publisher " + req.publisher
	case rejectStorage:
		return "without a required input source"
	case rejectConstraints:
		return "not matching the constraints"
	case rejectTooLarge:
		return "with a lower per-job limit"
	case rejectNoRoom:
		return "without enough free capacity"
	}
	return "unsuitable"
}

// summarize counts rejections by kind: "3 nodes without enough free
// capacity, 1 node unavailable".
func summarize(rejected []nodeRejection, req *requirements) string {
	if len(rejected) == 0 {
		return "no compute nodes"
	}
	counts := make(map[rejectKind]int)
	for _, r := range rejected {
		counts[r.kind]++
	}
	kinds := make([]rejectKind, 0, len(counts))
	for k := range counts {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		if counts[kinds[i]] != counts[kinds[j]] {
			return counts[kinds[i]] > counts[kinds[j]]
		}
		return kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = plural(counts[k], "node") + " " + shortReason(k, req)
	}
	return strings.Join(parts, ", ")
}

func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// nodeLines is one line per rejected node with its reason, the first
// maxNodeLines of them, then a summary of the rest.
func nodeLines(rejected []nodeRejection, req *requirements) string {
	var b strings.Builder
	for i, r := range rejected {
		if i == maxNodeLines {
			more := len(rejected) - i
			noun := "nodes"
			if more == 1 {
				noun = "node"
			}
			fmt.Fprintf(&b, "\n… and %d more %s: %s", more, noun, summarize(rejected[i:], req))
			break
		}
		fmt.Fprintf(&b, "\nnode %s: %s", r.nodeID, r.reason)
	}
	return b.String()
}

// waitingMessage is the job message while executions wait for room.
func waitingMessage(missing int, rejected []nodeRejection, req *requirements) string {
	return fmt.Sprintf("%s%s not placed (%s)", waitingPrefix, plural(missing, "execution"), summarize(rejected, req))
}

func notEnoughNodesMessage(requested, available int, rejected []nodeRejection, req *requirements) string {
	return fmt.Sprintf("not enough nodes to run job. requested: %d, available: %d", requested, available) +
		nodeLines(rejected, req)
}
