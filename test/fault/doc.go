// Package fault holds the fault-injection tests: real shoal replicas and
// compute nodes on loopback (test/testcluster), a recorded workload
// (test/workload), and faults a real deployment meets — kill -9 and SIGSTOP
// of the leader, loss of a compute node, loss of every replica at once —
// after which the checker proves that nothing acknowledged was lost, batch
// work ran exactly Count times, replicas agree, and the history is
// linearizable. The failover measurements (make failover-bench) live here
// too. Everything is in _test.go files; this file only names the package.
package fault
