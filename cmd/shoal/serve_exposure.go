package main

import (
	"net"
	"strings"
)

// exposureWarning says what is wrong when a replica's API can be reached
// from other machines while it checks nothing: anyone who reaches the port
// can then submit containers, restore snapshots and remove Raft peers. It
// returns "" when the API listens on loopback only, or when TLS and ACLs are
// both on. Dev mode is meant for trying things out and is never warned
// about.
func exposureWarning(apiAddr string, dev, tlsOn, aclOn bool) string {
	if dev || (tlsOn && aclOn) || loopbackOnly(apiAddr) {
		return ""
	}
	var missing []string
	if !tlsOn {
		missing = append(missing, "TLS (--tls-cert-file)")
	}
	if !aclOn {
		missing = append(missing, "ACLs (--acl)")
	}
	return "the API on " + apiAddr + " is reachable from other machines without " + strings.Join(missing, " and ") +
		": anyone who reaches it can run containers on every compute node, replace the cluster's state and remove replicas"
}

// loopbackOnly reports whether a host:port listens on the loopback interface
// only. An empty or unspecified host listens on every interface; a host name
// other than localhost may resolve anywhere, so it counts as reachable.
func loopbackOnly(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	host = strings.Trim(host, "[]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
