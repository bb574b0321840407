package bench

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/shoal-io/shoal/test/testcluster"
)

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's CPU times; it is
// 100 on every Linux the benchmarks run on.
const clockTicks = 100

// cpuTime is the user+system CPU time a process has used so far, read from
// /proc/<pid>/stat (pid 0: this process).
func cpuTime(pid int) (time.Duration, error) {
	name := "/proc/self/stat"
	if pid > 0 {
		name = fmt.Sprintf("/proc/%d/stat", pid)
	}
	data, err := os.ReadFile(name)
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields that follow it do not.
	s := string(data)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, fmt.Errorf("%s: unexpected format", name)
	}
	fields := strings.Fields(s[i+1:])
	// Fields after the name start at field 3 (state): utime is 14, stime 15.
	if len(fields) < 13 {
		return 0, fmt.Errorf("%s: too few fields", name)
	}
	utime, err := strconv.ParseInt(fields[11], 10, 64)
	if err != nil {
		return 0, err
	}
	stime, err := strconv.ParseInt(fields[12], 10, 64)
	if err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * time.Second / clockTicks, nil
}

// cpuMeter measures the CPU a set of processes spends between start and stop.
type cpuMeter struct {
	pids   []int
	before []time.Duration
}

func startCPU(pids ...int) *cpuMeter {
	m := &cpuMeter{pids: pids}
	for _, pid := range pids {
		t, _ := cpuTime(pid)
		m.before = append(m.before, t)
	}
	return m
}

// stop returns each process's CPU time since start.
func (m *cpuMeter) stop() []time.Duration {
	out := make([]time.Duration, len(m.pids))
	for i, pid := range m.pids {
		t, _ := cpuTime(pid)
		out[i] = t - m.before[i]
	}
	return out
}

// batchStats reads how many commands the leader has packed into Raft
// entries so far, and into how many entries, from its /metrics.
func batchStats(ctx context.Context, p *testcluster.Process) (commands, entries float64) {
	r, err := p.Get(ctx, "/metrics")
	if err != nil || r.Status != 200 {
		return 0, 0
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	families, err := parser.TextToMetricFamilies(bytes.NewReader(r.Body))
	if err != nil {
		return 0, 0
	}
	mf, ok := families["shoal_raft_batch_commands"]
	if !ok || len(mf.GetMetric()) == 0 {
		return 0, 0
	}
	h := mf.GetMetric()[0].GetHistogram()
	return h.GetSampleSum(), float64(h.GetSampleCount())
}
