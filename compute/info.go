package compute

import (
	"fmt"
	"maps"
	"net"
	"net/url"
	"runtime"
	"slices"
	"strings"

	"github.com/shoal-io/shoal/api"
	"github.com/shoal-io/shoal/compute/input"
	"github.com/shoal-io/shoal/compute/publisher"
)

// Automatic labels every compute node carries.
const (
	LabelOS   = "Operating-System"
	LabelArch = "Architecture"
)

// buildInfo assembles what the node registers. User labels override the
// automatic ones, so an operator can correct a wrong guess.
func buildInfo(cfg *Config, engines []string, capacity api.Resources, gpus []gpu) (*api.NodeInfo, error) {
	addrs, err := peerAddrs(cfg.AdvertiseURL)
	if err != nil {
		return nil, err
	}
	labels := map[string]string{LabelOS: runtime.GOOS, LabelArch: runtime.GOARCH}
	maps.Copy(labels, gpuLabels(gpus))
	maps.Copy(labels, cfg.Labels)
	maxJob := overrideResources(capacity, cfg.MaxJobRequirements)
	peerID := cfg.PeerID
	if peerID == "" {
		peerID = cfg.NodeID
	}
	return &api.NodeInfo{
		NodeID:   cfg.NodeID,
		NodeType: api.NodeTypeCompute,
		PeerInfo: &api.PeerInfo{ID: peerID, Addrs: addrs},
		Labels:   labels,
		ComputeNodeInfo: &api.ComputeNodeInfo{
			ExecutionEngines:   slices.Clone(engines),
			Publishers:         publisher.Types(),
			StorageSources:     []string{input.TypeInline, input.TypeURLDownload, input.TypeLocalDirectory},
			MaxCapacity:        capacity,
			AvailableCapacity:  capacity,
			MaxJobRequirements: maxJob,
		},
		BacalhauVersion: cfg.Version,
	}, nil
}

// peerAddrs turns the advertised URL into multiaddr-style addresses:
// /ip4/<ip>/tcp/<port>, /ip6/…, or /dns4/<name>/tcp/<port>.
func peerAddrs(advertise string) ([]string, error) {
	if advertise == "" {
		return []string{}, nil
	}
	u, err := url.Parse(advertise)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return nil, api.BadRequestf("invalid AdvertiseURL %q: want http(s)://host:port", advertise)
	}
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	proto := "dns4"
	if ip := net.ParseIP(host); ip != nil {
		proto = "ip6"
		if ip.To4() != nil {
			proto = "ip4"
		}
	}
	return []string{fmt.Sprintf("/%s/%s/tcp/%s", proto, host, port)}, nil
}

// advertiseFromListener guesses a base URL from the listener's address when
// none is configured; an unspecified IP becomes loopback, which suits a
// single machine only.
func advertiseFromListener(l net.Listener) string {
	if l == nil {
		return ""
	}
	addr, ok := l.Addr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	ip := addr.IP
	if ip == nil || ip.IsUnspecified() {
		ip = net.IPv4(127, 0, 0, 1)
	}
	return "http://" + net.JoinHostPort(ip.String(), fmt.Sprint(addr.Port))
}

// cloneInfo deep-copies a NodeInfo, so callers cannot change the node's.
func cloneInfo(in *api.NodeInfo) *api.NodeInfo {
	out := *in
	out.Labels = maps.Clone(in.Labels)
	if in.PeerInfo != nil {
		p := *in.PeerInfo
		p.Addrs = slices.Clone(p.Addrs)
		out.PeerInfo = &p
	}
	if in.ComputeNodeInfo != nil {
		c := *in.ComputeNodeInfo
		c.ExecutionEngines = slices.Clone(c.ExecutionEngines)
		c.Publishers = slices.Clone(c.Publishers)
		c.StorageSources = slices.Clone(c.StorageSources)
		out.ComputeNodeInfo = &c
	}
	return &out
}

// supported reports whether name is in list, ignoring case.
func supported(list []string, name string) bool {
	name = strings.TrimSpace(name)
	for _, s := range list {
		if strings.EqualFold(s, name) {
			return true
		}
	}
	return false
}
