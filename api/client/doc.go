// Package client is the Go client of Shoal's HTTP API, used by the CLI,
// compute nodes and tests. It talks to one or more orchestrator replicas,
// fails over between them when one is unreachable or has no leader, and
// retries a request whose outcome is unknown only when repeating it is safe.
// It never imports server code: everything it knows is in package api.
//
// A cluster with TLS is reached at https:// hosts with WithTLSConfig; the
// configuration comes from TLSFiles (TLSFromEnv reads SHOAL_CA_CERT,
// SHOAL_CLIENT_CERT and SHOAL_CLIENT_KEY, as the CLI does).
package client
