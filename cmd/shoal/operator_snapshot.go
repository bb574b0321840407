package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/shoal-io/shoal/api"
	"github.com/spf13/cobra"
)

func newSnapshotSaveCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "save FILE|-",
		Short: "Save a snapshot of the cluster's whole state to a file",
		Long: `Save a snapshot of the cluster's whole state (jobs, executions, history,
nodes) to FILE, or to stdout with "-". The file is written under a temporary
name and renamed once complete, so FILE is never a partial snapshot.`,
		Example: "  shoal operator snapshot save backup.snap\n  shoal operator snapshot save - | gzip > backup.snap.gz",
		Args:    args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			if a[0] == "-" {
				_, err := c.Operator().SnapshotSave(cmd.Context(), stdout(cmd))
				return err
			}
			path := a[0]
			tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
			if err != nil {
				return usageErrorf("cannot write the snapshot: %w", err)
			}
			defer os.Remove(tmp.Name()) // a no-op once renamed
			counter := &countingWriter{w: tmp}
			meta, err := c.Operator().SnapshotSave(cmd.Context(), counter)
			if err != nil {
				tmp.Close()
				return err
			}
			if err := tmp.Close(); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			if err := os.Rename(tmp.Name(), path); err != nil {
				return fmt.Errorf("writing %s: %w", path, err)
			}
			index := ""
			if meta != nil && meta.Index > 0 {
				index = fmt.Sprintf(" at index %d", meta.Index)
			}
			fmt.Fprintf(stdout(cmd), "Saved the cluster state%s to %s (%s).\n", index, path, api.FormatBytes(uint64(counter.n)))
			return nil
		}),
	}
}

func newSnapshotRestoreCommand(env *cliEnv) *cobra.Command {
	return &cobra.Command{
		Use:   "restore FILE|-",
		Short: "Replace the cluster's whole state with a saved snapshot",
		Long: `Replace the cluster's whole state with a snapshot saved by "snapshot save"
(read from stdin with "-"). Every replica ends up with the snapshot's state:
jobs submitted since it was saved are gone.`,
		Example: "  shoal operator snapshot restore backup.snap",
		Args:    args(cobra.ExactArgs(1)),
		RunE: run(func(cmd *cobra.Command, a []string) error {
			var r io.Reader = cmd.InOrStdin()
			if a[0] != "-" {
				f, err := os.Open(a[0])
				if err != nil {
					return usageErrorf("reading the snapshot: %w", err)
				}
				defer f.Close()
				r = f
			}
			c, _, err := env.apiClient(cmd)
			if err != nil {
				return err
			}
			if err := c.Operator().SnapshotRestore(cmd.Context(), r); err != nil {
				return err
			}
			fmt.Fprintf(stdout(cmd), "Restored the cluster state from %s.\n", a[0])
			return nil
		}),
	}
}

type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
