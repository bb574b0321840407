package testcluster

import (
	"os"
	"strconv"
	"time"
)

// EnvInt is the positive integer in the environment variable name, or def
// when it is unset or not one: the knobs of benchmarks and soaks.
func EnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// EnvDuration is the positive duration in the environment variable name, or
// def when it is unset or not one.
func EnvDuration(name string, def time.Duration) time.Duration {
	if d, err := time.ParseDuration(os.Getenv(name)); err == nil && d > 0 {
		return d
	}
	return def
}
