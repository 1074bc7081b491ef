package reports

import (
	"bytes"
	"encoding/csv"
	"strings"
)

// bom makes a spreadsheet read the file as UTF-8, so accents stay intact.
const bom = "\ufeff"

// CSV writes rows as RFC 4180 (CRLF line ends, quotes where needed) in
// UTF-8 behind a byte-order mark.
func CSV(rows [][]string) []byte {
	w := newCSVWriter()
	for _, r := range rows {
		_ = w.Write(r) // a bytes.Buffer does not fail
	}
	return w.Bytes()
}

// csvWriter writes CSV lines, one at a time, into memory.
type csvWriter struct {
	b bytes.Buffer
	w *csv.Writer
}

func newCSVWriter() *csvWriter {
	c := &csvWriter{}
	c.b.WriteString(bom)
	c.w = csv.NewWriter(&c.b)
	c.w.UseCRLF = true
	return c
}

func (c *csvWriter) Write(line []string) error { return c.w.Write(line) }

// Bytes is everything written, flushed.
func (c *csvWriter) Bytes() []byte {
	c.w.Flush()
	return c.b.Bytes()
}

// Text makes a person's text safe in a spreadsheet cell: one starting
// with = + - @ (or a tab or CR) would be run as a formula, so it is
// prefixed with an apostrophe, which spreadsheets show as plain text.
func Text(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
