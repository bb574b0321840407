package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"sigs.k8s.io/yaml"
)

// Output formats.
const (
	formatTable = "table"
	formatText  = "text" // a describe's readable summary
	formatJSON  = "json"
	formatYAML  = "yaml"
)

// outputFlags are the flags of every command that prints API objects.
type outputFlags struct {
	format  string
	wide    bool
	noStyle bool
}

// register adds --output (with the formats allowed, the first the
// default), --no-style when a human format is one of them, and --wide when
// the command has IDs or columns to widen.
func (o *outputFlags) register(fs *pflag.FlagSet, wide bool, formats ...string) {
	fs.StringVar(&o.format, "output", formats[0], "output format: "+strings.Join(formats, ", "))
	if wide {
		fs.BoolVar(&o.wide, "wide", false, "show full IDs and more columns")
	}
	for _, f := range formats {
		if f == formatTable || f == formatText {
			fs.BoolVar(&o.noStyle, "no-style", false, "no colors or bold (also when stdout is not a terminal, or NO_COLOR is set)")
			break
		}
	}
}

// check refuses a format the command does not print.
func (o *outputFlags) check(formats ...string) error {
	for _, f := range formats {
		if strings.EqualFold(o.format, f) {
			o.format = f
			return nil
		}
	}
	return usageErrorf("invalid --output %q: want %s", o.format, strings.Join(formats, ", "))
}

// styler decides whether this command's stdout gets colors.
func (o *outputFlags) styler(env *cliEnv, cmd *cobra.Command) styler {
	return newStyler(env, stdout(cmd), o.noStyle)
}

// printData prints v as indented JSON or as YAML.
func printData(w io.Writer, format string, v any) error {
	switch format {
	case formatJSON:
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		enc.SetEscapeHTML(false)
		return enc.Encode(v)
	case formatYAML:
		b, err := yaml.Marshal(v)
		if err != nil {
			return fmt.Errorf("encoding YAML: %w", err)
		}
		_, err = w.Write(b)
		return err
	}
	return usageErrorf("invalid output format %q", format)
}

// listFlags page, order and filter a list.
type listFlags struct {
	limit     int
	nextToken string
	orderBy   string
	reversed  bool
	labels    []string
}

// register adds the paging and ordering flags; orders lists the order_by
// values the API accepts, for the help text.
func (l *listFlags) register(fs *pflag.FlagSet, orders string, withLabels bool) {
	fs.IntVar(&l.limit, "limit", 0, "most rows to fetch (0: the server's default, 10)")
	fs.StringVar(&l.nextToken, "next-token", "", "fetch the page after the one that printed this token")
	fs.StringVar(&l.orderBy, "order-by", "", "order rows by: "+orders)
	fs.BoolVar(&l.reversed, "order-reversed", false, "reverse the order")
	if withLabels {
		fs.StringArrayVar(&l.labels, "labels", nil,
			"label selector the rows must match, in Kubernetes syntax (e.g. 'env=prod,region in (eu,us)'); repeatable")
	}
}

func (l *listFlags) check() error {
	if l.limit < 0 {
		return usageErrorf("invalid --limit %d: must not be negative", l.limit)
	}
	return nil
}

// printNextToken tells, on stderr, how to fetch the rows that remain.
func printNextToken(cmd *cobra.Command, token string) {
	if token != "" {
		fmt.Fprintf(stderr(cmd), "To fetch more records use --next-token %s\n", token)
	}
}

// keyValues prints "key = value" lines with the keys aligned, as upstream's
// describe headers; empty values are left out.
func keyValues(w io.Writer, st styler, pairs [][2]string) {
	width := 0
	for _, p := range pairs {
		if p[1] != "" {
			width = max(width, len(p[0]))
		}
	}
	for _, p := range pairs {
		if p[1] == "" {
			continue
		}
		fmt.Fprintf(w, "%s%s = %s\n", st.bold(p[0]), strings.Repeat(" ", width-len(p[0])), p[1])
	}
}

// section prints a heading before a block of a describe.
func section(w io.Writer, st styler, title string) {
	fmt.Fprintf(w, "\n%s\n", st.bold(title))
}
