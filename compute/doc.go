// Package compute is the compute node: execution engines (docker, wasm,
// noop), input sources, publishers, local execution bookkeeping, reporting
// to the orchestrators.
//
// A Node registers its description with the orchestrator replicas, then
// long-polls the executions assigned to it and reconciles them with what it
// runs: it bids on executions it is asked about, starts the ones approved,
// cancels the ones the cluster gave up on, and reports every state change
// through a batching reporter that retries until the report is accepted. It
// serves the published results and the output of its executions on its own
// HTTP listener.
//
// Engines live in compute/engine/..., input fetchers in compute/input,
// publishers in compute/publisher.
//
// Bind mounts: the docker engine mounts inputs and result folders from
// DataDir, so when the node runs in a container that talks to the host's
// Docker daemon, DataDir must be a host path mounted at the same path in the
// node's container.
package compute
