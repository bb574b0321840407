// Package api owns Shoal's wire vocabulary: the jobs, tasks, executions,
// evaluations, history events and nodes exactly as Bacalhau's Orchestrator API
// serializes them, the request and response bodies of every endpoint, the
// error model shared by server and clients, and the validation and
// normalization a job goes through before it is accepted.
//
// It imports only the standard library and the Kubernetes label selector
// package, so every other package (and external clients) can depend on it.
package api
