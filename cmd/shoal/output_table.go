package main

import (
	"io"
	"strings"
	"unicode/utf8"
)

// column is a table column: its header and how its cells are styled (nil:
// plain).
type column struct {
	header string
	style  func(string) string
}

// table prints rows with aligned columns. It measures the unstyled text, so
// color codes never push a column out of line (text/tabwriter counts them).
type table struct {
	columns []column
	rows    [][]string
}

func newTable(headers ...string) *table {
	t := &table{}
	for _, h := range headers {
		t.columns = append(t.columns, column{header: h})
	}
	return t
}

// styleColumn styles the cells of the column with the given header.
func (t *table) styleColumn(header string, style func(string) string) {
	for i := range t.columns {
		if t.columns[i].header == header {
			t.columns[i].style = style
		}
	}
}

func (t *table) add(cells ...string) { t.rows = append(t.rows, cells) }

// columnGap separates columns.
const columnGap = "  "

func (t *table) render(w io.Writer, st styler) error {
	widths := make([]int, len(t.columns))
	for i, c := range t.columns {
		widths[i] = utf8.RuneCountInString(c.header)
	}
	for _, r := range t.rows {
		for i := range t.columns {
			if i < len(r) {
				widths[i] = max(widths[i], utf8.RuneCountInString(r[i]))
			}
		}
	}
	var b strings.Builder
	line := func(cells []string, style func(i int, s string) string) {
		var l strings.Builder
		for i := range t.columns {
			cell := ""
			if i < len(cells) {
				cell = cells[i]
			}
			if i > 0 {
				l.WriteString(columnGap)
			}
			l.WriteString(style(i, cell))
			if i < len(t.columns)-1 {
				l.WriteString(strings.Repeat(" ", widths[i]-utf8.RuneCountInString(cell)))
			}
		}
		b.WriteString(strings.TrimRight(l.String(), " "))
		b.WriteByte('\n')
	}
	headers := make([]string, len(t.columns))
	for i, c := range t.columns {
		headers[i] = c.header
	}
	line(headers, func(_ int, s string) string { return st.bold(s) })
	for _, r := range t.rows {
		line(r, func(i int, s string) string {
			if s == "" || t.columns[i].style == nil || !st.enabled {
				return s
			}
			return t.columns[i].style(s)
		})
	}
	_, err := io.WriteString(w, b.String())
	return err
}
