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
	var b bytes.Buffer
	b.WriteString(bom)
	w := csv.NewWriter(&b)
	w.UseCRLF = true
	_ = w.WriteAll(rows) // a bytes.Buffer does not fail
	return b.Bytes()
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
