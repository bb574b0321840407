// Package scheduler owns the evaluation broker, one scheduler per job type
// (batch, ops, service, daemon), node feasibility and ranking, and plans; it
// runs on the leader only.
//
// The broker holds the open evaluations in memory, hands them to workers one
// per job at a time, and parks evaluations that wait for room on the nodes.
// A worker reads a consistent snapshot of the replicated state, lets the
// scheduler for the job's type decide what should change, and proposes that
// decision as one fsm.Plan through the Planner. The package never writes state
// any other way, so a plan that lands on changed state is re-checked by the
// state machine and, when parts of it were dropped, simply planned again.
package scheduler
