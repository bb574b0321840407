// Package testcluster starts real shoal processes on loopback for tests:
// replicas and compute nodes with their own ports and data folders, which a
// test can kill -9, pause, resume and restart, and drive over HTTP. Process
// logs go to files that are printed when a test fails.
package testcluster
