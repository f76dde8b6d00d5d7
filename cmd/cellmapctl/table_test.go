package main

import (
	"strings"
	"testing"
	"unicode"
)

// tableCase is a table and its exact rendering.
type tableCase struct {
	name  string
	build func() *table
	want  string
}

func tableCases() []tableCase {
	return []tableCase{
		{"centred like PrettyTable", func() *table {
			tb := newTable("Name", "UUID", "Disabled")
			tb.addRow("cell0", "00000000-0000-0000-0000-000000000000", "False")
			tb.addRow("", "x", "True")
			return tb
		}, "" +
			"+-------+--------------------------------------+----------+\n" +
			"|  Name |                 UUID                 | Disabled |\n" +
			"+-------+--------------------------------------+----------+\n" +
			"| cell0 | 00000000-0000-0000-0000-000000000000 |  False   |\n" +
			"|       |                  x                   |   True   |\n" +
			"+-------+--------------------------------------+----------+\n"},
		{"odd and even excess", func() *table {
			tb := newTable("abcd", "abcde")
			tb.addRow("ab", "abc")
			tb.addRow("a", "ab")
			return tb
		}, "" +
			"+------+-------+\n" +
			"| abcd | abcde |\n" +
			"+------+-------+\n" +
			"|  ab  |  abc  |\n" +
			"|  a   |   ab  |\n" +
			"+------+-------+\n"},
		{"no rows", func() *table { return newTable("Cell Name", "Hostname") }, "" +
			"+-----------+----------+\n" +
			"| Cell Name | Hostname |\n" +
			"+-----------+----------+\n" +
			"+-----------+----------+\n"},
		{"left aligned", func() *table {
			tb := newTable("Field", "Value")
			tb.align = alignLeft
			tb.addRow("ID", "small")
			tb.addRow("Extra Specs", "")
			return tb
		}, "" +
			"+-------------+-------+\n" +
			"| Field       | Value |\n" +
			"+-------------+-------+\n" +
			"| ID          | small |\n" +
			"| Extra Specs |       |\n" +
			"+-------------+-------+\n"},
		{"width counts runes; control characters become spaces", func() *table {
			tb := newTable("N")
			tb.addRow("zürich")
			tb.addRow("a\nb")
			return tb
		}, "" +
			"+--------+\n" +
			"|   N    |\n" +
			"+--------+\n" +
			"| zürich |\n" +
			"|  a b   |\n" +
			"+--------+\n"},
		{"short and long rows", func() *table {
			tb := newTable("A", "B")
			tb.addRow("1")
			tb.addRow("1", "2", "3")
			return tb
		}, "" +
			"+---+---+\n" +
			"| A | B |\n" +
			"+---+---+\n" +
			"| 1 |   |\n" +
			"| 1 | 2 |\n" +
			"+---+---+\n"},
	}
}

func TestTable(t *testing.T) {
	for _, tc := range tableCases() {
		t.Run(tc.name, func(t *testing.T) {
			var b strings.Builder
			if err := tc.build().write(&b); err != nil {
				t.Fatal(err)
			}
			if got := b.String(); got != tc.want {
				t.Fatalf("got:\n%s\nwant:\n%s", got, tc.want)
			}
		})
	}
}

func TestCenterMatchesPythonStrCenter(t *testing.T) {
	// Values of Python's "s".center(width).
	tests := []struct {
		s     string
		width int
		want  string
	}{
		{"a", 4, " a  "},
		{"ab", 5, "  ab "},
		{"abc", 6, " abc  "},
		{"abcd", 7, "  abcd "},
		{"ab", 4, " ab "},
		{"", 3, "   "},
	}
	for _, tc := range tests {
		if got := center(tc.s, tc.width-len(tc.s)); got != tc.want {
			t.Errorf("center(%q, %d): got %q, want %q", tc.s, tc.width, got, tc.want)
		}
	}
}

// TestTableNeutralizesControlCharacters: a value from the server never reaches the terminal
// with a control character, C1 included (U+009B is an 8-bit CSI: it starts an escape sequence).
func TestTableNeutralizesControlCharacters(t *testing.T) {
	for _, in := range []string{"a\x1b[2Jb", "a\u009b2Jb", "a\u0085b", "a\x7fb", "a\nb"} {
		tb := newTable("v")
		tb.addRow(in)
		var out strings.Builder
		if err := tb.write(&out); err != nil {
			t.Fatal(err)
		}
		if strings.ContainsFunc(out.String(), func(r rune) bool { return r != '\n' && unicode.IsControl(r) }) {
			t.Fatalf("%q printed as %q", in, out.String())
		}
	}
}
