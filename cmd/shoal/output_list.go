package main

import (
	"context"

	"github.com/shoal-io/shoal/api/client"
	"github.com/spf13/cobra"
)

// listRun is the shape every list command shares: check the flags, fetch one
// page, print it as a table or as data (an empty list, never null), then the
// token of the next page on stderr.
type listRun[T any] struct {
	out  *outputFlags
	list *listFlags
	// check holds the command's own flag checks, made before the cluster is
	// asked anything.
	check func() error
	fetch func(ctx context.Context, c *client.Client, args []string) (rows []T, nextToken string, err error)
	table func(rows []T, wide bool, st styler) *table
}

func (l listRun[T]) run(env *cliEnv) func(*cobra.Command, []string) error {
	return run(func(cmd *cobra.Command, args []string) error {
		if err := l.out.check(formatTable, formatJSON, formatYAML); err != nil {
			return err
		}
		if err := l.list.check(); err != nil {
			return err
		}
		if l.check != nil {
			if err := l.check(); err != nil {
				return err
			}
		}
		c, _, err := env.apiClient(cmd)
		if err != nil {
			return err
		}
		rows, next, err := l.fetch(cmd.Context(), c, args)
		if err != nil {
			return err
		}
		if rows == nil {
			rows = []T{}
		}
		if l.out.format != formatTable {
			if err := printData(stdout(cmd), l.out.format, rows); err != nil {
				return err
			}
		} else {
			st := l.out.styler(env, cmd)
			if err := l.table(rows, l.out.wide, st).render(stdout(cmd), st); err != nil {
				return err
			}
		}
		printNextToken(cmd, next)
		return nil
	})
}
