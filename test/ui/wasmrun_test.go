package ui_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tetratelabs/wazero"
	"github.com/tetratelabs/wazero/imports/wasi_snapshot_preview1"
	"github.com/tetratelabs/wazero/sys"
)

// TestWasiModules checks the hand-assembled modules in wazero itself, so a
// broken module fails here with a clear message rather than as a job that
// never prints in the browser test.
func TestWasiModules(t *testing.T) {
	run := func(t *testing.T, mod []byte, timeout time.Duration) (string, error) {
		ctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		rt := wazero.NewRuntimeWithConfig(ctx, wazero.NewRuntimeConfig().WithCloseOnContextDone(true))
		defer rt.Close(context.Background())
		wasi_snapshot_preview1.MustInstantiate(ctx, rt)
		var out bytes.Buffer
		_, err := rt.InstantiateWithConfig(ctx, mod, wazero.NewModuleConfig().WithStdout(&out).WithSysNanosleep())
		return out.String(), err
	}
	t.Run("hello prints and exits", func(t *testing.T) {
		out, err := run(t, wasiModule("one\ntwo\n", false, 0), 10*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		if out != "one\ntwo\n" {
			t.Fatalf("stdout %q", out)
		}
	})
	t.Run("ticker prints until stopped", func(t *testing.T) {
		out, err := run(t, wasiModule("tick\n", true, 100_000_000), 1200*time.Millisecond)
		var exit *sys.ExitError
		if !errors.As(err, &exit) {
			t.Fatalf("ended with %v, want an exit error from the deadline", err)
		}
		if n := strings.Count(out, "tick\n"); n < 3 || n > 14 {
			t.Fatalf("printed %d ticks in 1.2s at one every 100ms: %q", n, out)
		}
	})
}
