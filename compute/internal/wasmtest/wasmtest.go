// Package wasmtest builds WASI modules from Go source for tests.
package wasmtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// Program is a WASI command used by the engine and node tests. It prints
// its arguments and the GREETING variable, copies /inputs/data.txt to
// stdout and to /outputs/result.txt, writes a line to stderr, then acts on
// its first argument: "fail" exits 7, "sleep" sleeps an hour, "spin" loops
// forever.
const Program = `package main

import (
	"fmt"
	"os"
	"strings"
	"time"
)

func main() {
	fmt.Println("args:", strings.Join(os.Args, " "))
	fmt.Println("env:", os.Getenv("GREETING"))
	mode := ""
	if len(os.Args) > 1 {
		mode = os.Args[1]
	}
	switch mode {
	case "sleep":
		time.Sleep(time.Hour)
	case "spin":
		for i := 0; ; i++ {
			if i < 0 {
				fmt.Println(i)
			}
		}
	}
	data, err := os.ReadFile("/inputs/data.txt")
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(2)
	}
	fmt.Print("input: ", string(data))
	if err := os.WriteFile("/outputs/result.txt", []byte("result of "+string(data)), 0o644); err != nil {
		fmt.Fprintln(os.Stderr, "write:", err)
		os.Exit(3)
	}
	if err := os.WriteFile("/inputs/data.txt", []byte("overwritten"), 0o644); err == nil {
		fmt.Fprintln(os.Stderr, "input was writable")
		os.Exit(4)
	}
	fmt.Fprintln(os.Stderr, "to stderr")
	if mode == "fail" {
		os.Exit(7)
	}
}
`

// Build compiles Go source (package main, standard library only) with
// GOOS=wasip1 GOARCH=wasm into t.TempDir() and returns the module's path.
func Build(t testing.TB, source string) string {
	t.Helper()
	return BuildIn(t, t.TempDir(), source)
}

// BuildIn is Build into a folder the caller owns.
func BuildIn(t testing.TB, dir, source string) string {
	t.Helper()
	if err := os.WriteFile(filepath.Join(dir, "go.mod"), []byte("module wasmtest\n\ngo 1.21\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "main.go"), []byte(source), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "main.wasm")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOOS=wasip1", "GOARCH=wasm", "GOTOOLCHAIN=local", "GOFLAGS=", "GOWORK=off")
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building the wasm test module: %v\n%s", err, msg)
	}
	return out
}
