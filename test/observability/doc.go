// Package observability checks what operators watch a Shoal cluster with:
// the /metrics of replicas and compute nodes pass `promtool check metrics`
// and carry every series the alerting rules use, and the rules in
// deploy/prometheus pass `promtool check rules` and their unit tests.
//
// The checks need promtool (Debian's prometheus package). Without it they
// skip, unless SHOAL_REQUIRE_PROMTOOL=1 (CI) makes that a failure.
package observability
