// Package auth owns identity: certificates and TLS configurations (who a
// connection comes from, by the role its certificate carries), and ACL
// tokens and roles (what a request may do).
//
// A Shoal certificate names its role in a DNS SAN: server.shoal for
// replicas, compute.shoal for compute nodes, cli.shoal for people and
// tools. Links inside the cluster check that role against the cluster's CA
// instead of a host name, so replicas and nodes may move between addresses
// without new certificates.
package auth
