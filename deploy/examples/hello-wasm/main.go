// Command hello-wasm is the demo's WebAssembly job: a tiny WASI program
// that shows what a task sees (its arguments, its environment, the files
// given to it as inputs) and does a little work. Build it for WASI with
//
//	GOOS=wasip1 GOARCH=wasm go build -o hello.wasm ./deploy/examples/hello-wasm
//
// and run it on the cluster with `shoal wasm run hello.wasm NAME`.
package main

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
)

func main() {
	name := "world"
	if len(os.Args) > 1 {
		name = strings.Join(os.Args[1:], " ")
	}
	fmt.Printf("Hello, %s! (a %s/%s program)\n", name, runtime.GOOS, runtime.GOARCH)
	fmt.Printf("The primes below 50: %v\n", primesBelow(50))

	env := os.Environ()
	sort.Strings(env)
	for _, kv := range env {
		fmt.Println("env:", kv)
	}
	// Inputs (shoal wasm run -i …) appear under /inputs when given.
	_ = filepath.WalkDir("/inputs", func(path string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			fmt.Println("input:", path)
		}
		return nil
	})
}

// primesBelow is the sieve of Eratosthenes: some work to show the module
// computes, not only prints.
func primesBelow(n int) []int {
	composite := make([]bool, n)
	var primes []int
	for i := 2; i < n; i++ {
		if composite[i] {
			continue
		}
		primes = append(primes, i)
		for j := i * i; j < n; j += i {
			composite[j] = true
		}
	}
	return primes
}
