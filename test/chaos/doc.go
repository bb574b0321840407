// Package chaos is Shoal's chaos suite: it runs a recorded workload against
// a Compose cluster (three replicas and three compute nodes on a private
// Docker network) while nemeses drawn from a seeded schedule partition,
// pause, kill, slow down and re-member its containers, then heals
// everything and checks the history and the cluster's final state, and
// writes a report a person can read (chaos-report/<timestamp>/).
//
// `make chaos` runs it (TestChaos); `make chaos-smoke` runs two minutes of
// it, and TestChaosCatchesStaleReads shows it fails against a deliberately
// broken build. Network faults use the host's iptables and tc inside each
// container's network namespace (nsenter), so the images stay FROM scratch;
// the suite needs root on the Docker host.
package chaos
