package compute

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/shoal-io/shoal/api"
)

// hostProbe reads what the machine offers. root is "/" except in tests,
// which point it at a folder laid out like /proc and /sys.
type hostProbe struct {
	root   string
	numCPU int
}

// gpu is one GPU found by nvidia-smi.
type gpu struct {
	Index     int
	Name      string
	MemoryMiB uint64
}

// detectCapacity measures CPU, memory, disk free under dataDir and GPUs.
func detectCapacity(ctx context.Context, probe hostProbe, dataDir string) (api.Resources, []gpu) {
	r := api.Resources{CPU: float64(probe.numCPU)}
	if q, ok := probe.cgroupCPU(); ok && q < r.CPU {
		r.CPU = q
	}
	r.Memory = probe.memTotal()
	if m, ok := probe.cgroupMemory(); ok && (r.Memory == 0 || m < r.Memory) {
		r.Memory = m
	}
	r.Disk = diskFree(dataDir)
	gpus := detectGPUs(ctx)
	r.GPU = uint64(len(gpus))
	return r, gpus
}

// cgroupPaths returns this process's cgroup path per controller ("" key for
// the cgroup v2 unified hierarchy).
func (p hostProbe) cgroupPaths() map[string]string {
	data, err := os.ReadFile(filepath.Join(p.root, "proc/self/cgroup"))
	if err != nil {
		return nil
	}
	out := map[string]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		parts := strings.SplitN(line, ":", 3)
		if len(parts) != 3 {
			continue
		}
		for _, ctrl := range strings.Split(parts[1], ",") {
			out[ctrl] = parts[2]
		}
	}
	return out
}

// cgroupFiles lists where a controller file may be, most specific first:
// the process's own cgroup and its ancestors, in the v2 hierarchy or under a
// v1 controller mount. Inside a container the cgroup namespace makes its
// own cgroup the mount's root, which the ancestors cover.
func (p hostProbe) cgroupFiles(v1Mounts []string, v1Key, name string) []string {
	paths := p.cgroupPaths()
	var out []string
	addChain := func(mount, cg string) {
		cg = filepath.Clean("/" + cg)
		for {
			out = append(out, filepath.Join(p.root, mount, cg, name))
			if cg == "/" {
				return
			}
			cg = filepath.Dir(cg)
		}
	}
	if cg, ok := paths[""]; ok {
		addChain("sys/fs/cgroup", cg)
	}
	for _, m := range v1Mounts {
		addChain(m, paths[v1Key])
	}
	return out
}

// cgroupCPU returns the strictest CPU quota in cores, if one is set.
func (p hostProbe) cgroupCPU() (float64, bool) {
	best, found := 0.0, false
	consider := func(v float64) {
		if !found || v < best {
			best, found = v, true
		}
	}
	for _, f := range p.cgroupFiles(nil, "", "cpu.max") {
		if data, err := os.ReadFile(f); err == nil {
			if v, ok := parseCPUMax(string(data)); ok {
				consider(v)
			}
		}
	}
	for _, f := range p.cgroupFiles([]string{"sys/fs/cgroup/cpu,cpuacct", "sys/fs/cgroup/cpu"}, "cpu", "cpu.cfs_quota_us") {
		quota, err1 := os.ReadFile(f)
		period, err2 := os.ReadFile(filepath.Join(filepath.Dir(f), "cpu.cfs_period_us"))
		if err1 == nil && err2 == nil {
			if v, ok := parseCFSQuota(string(quota), string(period)); ok {
				consider(v)
			}
		}
	}
	return best, found
}

// cgroupMemory returns the strictest memory limit in bytes, if one is set.
func (p hostProbe) cgroupMemory() (uint64, bool) {
	var best uint64
	found := false
	files := append(p.cgroupFiles(nil, "", "memory.max"),
		p.cgroupFiles([]string{"sys/fs/cgroup/memory"}, "memory", "memory.limit_in_bytes")...)
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		if v, ok := parseMemoryLimit(string(data)); ok && (!found || v < best) {
			best, found = v, true
		}
	}
	return best, found
}

func (p hostProbe) memTotal() uint64 {
	data, err := os.ReadFile(filepath.Join(p.root, "proc/meminfo"))
	if err != nil {
		return 0
	}
	return parseMemTotal(string(data))
}

// parseCPUMax reads cgroup v2 cpu.max: "max 100000" (no limit) or
// "<quota> <period>".
func parseCPUMax(s string) (float64, bool) {
	f := strings.Fields(s)
	if len(f) == 0 || f[0] == "max" {
		return 0, false
	}
	period := "100000"
	if len(f) > 1 {
		period = f[1]
	}
	return parseCFSQuota(f[0], period)
}

// parseCFSQuota reads cgroup v1 quota and period (quota -1: no limit).
func parseCFSQuota(quota, period string) (float64, bool) {
	q, err1 := strconv.ParseFloat(strings.TrimSpace(quota), 64)
	p, err2 := strconv.ParseFloat(strings.TrimSpace(period), 64)
	if err1 != nil || err2 != nil || q <= 0 || p <= 0 {
		return 0, false
	}
	return q / p, true
}

// unlimitedMemory is above any real limit: cgroup v1 reports "no limit" as
// a huge page-aligned number.
const unlimitedMemory = 1 << 60

// parseMemoryLimit reads memory.max ("max" = none) or memory.limit_in_bytes.
func parseMemoryLimit(s string) (uint64, bool) {
	s = strings.TrimSpace(s)
	if s == "" || s == "max" {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 10, 64)
	if err != nil || v == 0 || v >= unlimitedMemory {
		return 0, false
	}
	return v, true
}

// parseMemTotal reads MemTotal from /proc/meminfo, in bytes.
func parseMemTotal(s string) uint64 {
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) >= 2 && f[0] == "MemTotal:" {
			v, err := strconv.ParseUint(f[1], 10, 64)
			if err != nil {
				return 0
			}
			if len(f) >= 3 && strings.EqualFold(f[2], "kB") {
				v *= 1024
			}
			return v
		}
	}
	return 0
}

// detectGPUs asks nvidia-smi, when installed, for the machine's GPUs.
func detectGPUs(ctx context.Context) []gpu {
	bin, err := exec.LookPath("nvidia-smi")
	if err != nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "--query-gpu=index,name,memory.total",
		"--format=csv,noheader,nounits").Output()
	if err != nil {
		return nil
	}
	return parseNvidiaSMI(out)
}

// parseNvidiaSMI reads "index, name, memory MiB" lines.
func parseNvidiaSMI(out []byte) []gpu {
	var gpus []gpu
	for _, line := range bytes.Split(bytes.TrimSpace(out), []byte("\n")) {
		f := strings.Split(string(line), ",")
		if len(f) < 3 {
			continue
		}
		idx, err := strconv.Atoi(strings.TrimSpace(f[0]))
		if err != nil {
			continue
		}
		mem, _ := strconv.ParseUint(strings.TrimSpace(f[len(f)-1]), 10, 64)
		name := strings.TrimSpace(strings.Join(f[1:len(f)-1], ","))
		gpus = append(gpus, gpu{Index: idx, Name: name, MemoryMiB: mem})
	}
	return gpus
}

// gpuLabels are the automatic GPU labels: GPU-<i> = name and
// GPU-<i>-Memory = "<n>-MiB".
func gpuLabels(gpus []gpu) map[string]string {
	out := map[string]string{}
	for _, g := range gpus {
		out[fmt.Sprintf("GPU-%d", g.Index)] = labelValue(g.Name)
		out[fmt.Sprintf("GPU-%d-Memory", g.Index)] = fmt.Sprintf("%d-MiB", g.MemoryMiB)
	}
	return out
}

// labelValue makes a string usable as a label value: label syntax allows
// alphanumerics, '-', '_' and '.', at most 63 characters.
func labelValue(s string) string {
	b := []byte(strings.TrimSpace(s))
	for i, c := range b {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.'
		if !ok {
			b[i] = '-'
		}
	}
	v := strings.Trim(string(b), "-_.")
	if len(v) > 63 {
		v = strings.Trim(v[:63], "-_.")
	}
	return v
}

// overrideResources replaces each dimension of base that o sets.
func overrideResources(base, o api.Resources) api.Resources {
	if o.CPU != 0 {
		base.CPU = o.CPU
	}
	if o.Memory != 0 {
		base.Memory = o.Memory
	}
	if o.Disk != 0 {
		base.Disk = o.Disk
	}
	if o.GPU != 0 {
		base.GPU = o.GPU
	}
	return base
}

func defaultProbe() hostProbe { return hostProbe{root: "/", numCPU: runtime.NumCPU()} }
