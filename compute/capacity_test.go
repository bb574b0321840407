package compute

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/shoal-io/shoal/api"
)

func TestParseCgroupValues(t *testing.T) {
	cpuMax := []struct {
		in     string
		want   float64
		wantOK bool
	}{
		{"max 100000\n", 0, false},
		{"200000 100000\n", 2, true},
		{"50000 100000", 0.5, true},
		{"150000", 1.5, true},
		{"", 0, false},
		{"garbage 100000", 0, false},
	}
	for _, tt := range cpuMax {
		if got, ok := parseCPUMax(tt.in); got != tt.want || ok != tt.wantOK {
			t.Errorf("parseCPUMax(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.wantOK)
		}
	}
	cfs := []struct {
		quota, period string
		want          float64
		wantOK        bool
	}{
		{"-1\n", "100000\n", 0, false},
		{"300000\n", "100000\n", 3, true},
		{"x", "100000", 0, false},
	}
	for _, tt := range cfs {
		if got, ok := parseCFSQuota(tt.quota, tt.period); got != tt.want || ok != tt.wantOK {
			t.Errorf("parseCFSQuota(%q, %q) = %v, %v", tt.quota, tt.period, got, ok)
		}
	}
	mem := []struct {
		in     string
		want   uint64
		wantOK bool
	}{
		{"max\n", 0, false},
		{"1073741824\n", 1 << 30, true},
		{"9223372036854771712\n", 0, false}, // cgroup v1 "no limit"
		{"0", 0, false},
		{"x", 0, false},
	}
	for _, tt := range mem {
		if got, ok := parseMemoryLimit(tt.in); got != tt.want || ok != tt.wantOK {
			t.Errorf("parseMemoryLimit(%q) = %v, %v", tt.in, got, ok)
		}
	}
	if got := parseMemTotal("MemTotal:       16384000 kB\nMemFree: 1 kB\n"); got != 16384000*1024 {
		t.Errorf("parseMemTotal = %d", got)
	}
	if got := parseMemTotal("nothing here"); got != 0 {
		t.Errorf("parseMemTotal of garbage = %d", got)
	}
}

func writeFiles(t *testing.T, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestDetectCapacity(t *testing.T) {
	const meminfo = "MemTotal: 8000000 kB\n"
	tests := []struct {
		name    string
		files   map[string]string
		numCPU  int
		wantCPU float64
		wantMem uint64
	}{
		{
			name:    "no cgroup limits",
			files:   map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "max 100000\n", "sys/fs/cgroup/memory.max": "max\n"},
			numCPU:  8,
			wantCPU: 8,
			wantMem: 8000000 * 1024,
		},
		{
			name: "cgroup v2 limits on the own cgroup",
			files: map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/job/x\n",
				"sys/fs/cgroup/job/x/cpu.max": "150000 100000\n", "sys/fs/cgroup/job/x/memory.max": "2147483648\n"},
			numCPU:  8,
			wantCPU: 1.5,
			wantMem: 2 << 30,
		},
		{
			name: "cgroup v2 limit on a parent is the strictest",
			files: map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/job/x\n",
				"sys/fs/cgroup/job/x/cpu.max": "400000 100000\n", "sys/fs/cgroup/job/cpu.max": "200000 100000\n",
				"sys/fs/cgroup/job/memory.max": "1073741824\n"},
			numCPU:  8,
			wantCPU: 2,
			wantMem: 1 << 30,
		},
		{
			name: "cgroup v1",
			files: map[string]string{"proc/meminfo": meminfo,
				"proc/self/cgroup": "4:memory:/docker/abc\n2:cpu,cpuacct:/docker/abc\n0::/\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us":  "100000\n",
				"sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us": "100000\n",
				"sys/fs/cgroup/memory/docker/abc/memory.limit_in_bytes":  "536870912\n",
				"sys/fs/cgroup/memory/memory.limit_in_bytes":             "9223372036854771712\n"},
			numCPU:  4,
			wantCPU: 1,
			wantMem: 512 << 20,
		},
		{
			name:    "quota above the machine's CPUs",
			files:   map[string]string{"proc/meminfo": meminfo, "proc/self/cgroup": "0::/\n", "sys/fs/cgroup/cpu.max": "1600000 100000\n"},
			numCPU:  2,
			wantCPU: 2,
			wantMem: 8000000 * 1024,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			root := t.TempDir()
			writeFiles(t, root, tt.files)
			r, _ := detectCapacity(context.Background(), hostProbe{root: root, numCPU: tt.numCPU}, root)
			if r.CPU != tt.wantCPU || r.Memory != tt.wantMem {
				t.Errorf("capacity = %+v, want CPU %v memory %d", r, tt.wantCPU, tt.wantMem)
			}
			if r.Disk == 0 {
				t.Errorf("disk free not measured")
			}
		})
	}
}

func TestGPUs(t *testing.T) {
	out := []byte("0, NVIDIA A100-SXM4-40GB, 40960\n1, Tesla T4, 15360\nbad line\n")
	gpus := parseNvidiaSMI(out)
	want := []gpu{{0, "NVIDIA A100-SXM4-40GB", 40960}, {1, "Tesla T4", 15360}}
	if !reflect.DeepEqual(gpus, want) {
		t.Fatalf("gpus = %+v", gpus)
	}
	labels := gpuLabels(gpus)
	wantLabels := map[string]string{"GPU-0": "NVIDIA-A100-SXM4-40GB", "GPU-0-Memory": "40960-MiB",
		"GPU-1": "Tesla-T4", "GPU-1-Memory": "15360-MiB"}
	if !reflect.DeepEqual(labels, wantLabels) {
		t.Fatalf("labels = %v", labels)
	}
}

func TestOverrideResources(t *testing.T) {
	base := api.Resources{CPU: 8, Memory: 100, Disk: 1000, GPU: 1}
	got := overrideResources(base, api.Resources{CPU: 2, Disk: 5})
	want := api.Resources{CPU: 2, Memory: 100, Disk: 5, GPU: 1}
	if got != want {
		t.Fatalf("override = %+v, want %+v", got, want)
	}
}
