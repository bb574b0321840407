// Package workload drives Shoal's public API from concurrent clients and
// records every operation with its call and return times, its input, its
// answer and how that answer must be read (ok, failed for sure, or unknown),
// and checks a finished run: every acknowledged create exists exactly once,
// no create that failed for sure left a job behind, batch jobs end with
// exactly Count completed executions, and the history of creates, stops and
// describes is linearizable (checked with porcupine, partitioned by job).
//
// It owns no cluster: the fault tests in test/fault start real processes and
// hand this package their API addresses.
package workload
