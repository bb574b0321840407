package server

import (
	"net"
	"net/http"

	"github.com/shoal-io/shoal/api"
)

func (s *Server) handleAlive(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), &api.IsAliveResponse{Status: "OK"})
}

func (s *Server) handleVersion(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), s.cfg.Version)
}

func (s *Server) handleAgentNode(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, s.fsm.State().Index(), s.selfInfo())
}

// selfInfo describes this replica as upstream describes its requester node.
func (s *Server) selfInfo() *api.NodeInfo {
	return &api.NodeInfo{
		NodeID:          s.cfg.NodeID,
		PeerInfo:        &api.PeerInfo{ID: s.peerID, Addrs: []string{multiaddr(s.cfg.AdvertiseAPIAddr)}},
		NodeType:        api.NodeTypeRequester,
		Labels:          map[string]string{},
		BacalhauVersion: s.cfg.Version,
		Approval:        api.NodeApprovalApproved,
		Connection:      api.NodeConnected,
	}
}

// multiaddr writes host:port as upstream's "/ip4/1.2.3.4/tcp/1234".
func multiaddr(hostport string) string {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return hostport
	}
	ip := net.ParseIP(host)
	switch {
	case ip == nil:
		return "/dns4/" + host + "/tcp/" + port
	case ip.To4() != nil:
		return "/ip4/" + host + "/tcp/" + port
	default:
		return "/ip6/" + host + "/tcp/" + port
	}
}
