package main

import (
	"io"
	"strings"
	"unicode/utf8"

	"github.com/cellmap/cellmap/api/validate"
)

// alignment is how a table pads its cells.
type alignment int

const (
	// alignCenter centres every cell like PrettyTable's default (and Python's str.center),
	// which is what nova-manage prints.
	alignCenter alignment = iota
	// alignLeft pads on the right, like the openstack client's Field/Value tables.
	alignLeft
)

// table is a PrettyTable-style ASCII table:
//
//	+------+--------------------------------------+
//	| Name |                 UUID                 |
//	+------+--------------------------------------+
//	| cell | 6c1e2d3f-...                         |
//	+------+--------------------------------------+
//
// A table without rows still prints its header and closing border, as PrettyTable does.
type table struct {
	header []string
	rows   [][]string
	align  alignment
}

// newTable returns an empty, centred table with the given column names.
func newTable(header ...string) *table {
	return &table{header: header}
}

// addRow appends a row; missing cells are empty, extra cells are dropped.
func (t *table) addRow(cells ...string) {
	row := make([]string, len(t.header))
	copy(row, cells)
	t.rows = append(t.rows, row)
}

// widths returns the display width of each column (its widest cell, in runes).
func (t *table) widths() []int {
	w := make([]int, len(t.header))
	for i, h := range t.header {
		w[i] = utf8.RuneCountInString(h)
	}
	for _, row := range t.rows {
		for i, c := range row {
			w[i] = max(w[i], utf8.RuneCountInString(c))
		}
	}
	return w
}

// write prints the table to w.
func (t *table) write(w io.Writer) error {
	widths := t.widths()
	var b strings.Builder
	rule := horizontalRule(widths)
	b.WriteString(rule)
	t.writeRow(&b, t.header, widths)
	b.WriteString(rule)
	for _, row := range t.rows {
		t.writeRow(&b, row, widths)
	}
	b.WriteString(rule)
	_, err := io.WriteString(w, b.String())
	return err
}

// horizontalRule is "+----+---+\n" for the given column widths (one space of padding each side).
func horizontalRule(widths []int) string {
	var b strings.Builder
	b.WriteByte('+')
	for _, n := range widths {
		b.WriteString(strings.Repeat("-", n+2))
		b.WriteByte('+')
	}
	b.WriteByte('\n')
	return b.String()
}

// writeRow prints one row of cells padded to widths.
func (t *table) writeRow(b *strings.Builder, cells []string, widths []int) {
	b.WriteByte('|')
	for i, c := range cells {
		b.WriteByte(' ')
		b.WriteString(t.pad(sanitizeCell(c), widths[i]))
		b.WriteString(" |")
	}
	b.WriteByte('\n')
}

// pad fills s to width runes with the table's alignment.
func (t *table) pad(s string, width int) string {
	excess := width - utf8.RuneCountInString(s)
	if excess <= 0 {
		return s
	}
	if t.align == alignCenter {
		return center(s, excess)
	}
	return s + strings.Repeat(" ", excess)
}

// center splits excess spaces around s like Python's str.center (and PrettyTable): with an
// odd excess the extra space goes right of an odd-length text and left of an even-length one.
func center(s string, excess int) string {
	left := excess / 2
	right := excess / 2
	if excess%2 == 1 {
		if utf8.RuneCountInString(s)%2 == 1 {
			right++
		} else {
			left++
		}
	}
	return strings.Repeat(" ", left) + s + strings.Repeat(" ", right)
}

// sanitizeCell keeps a cell on one line and the terminal safe: control characters (C0, DEL
// and C1, validate.IsControl) become spaces.
func sanitizeCell(s string) string {
	if !strings.ContainsFunc(s, validate.IsControl) {
		return s
	}
	return strings.Map(func(r rune) rune {
		if validate.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
