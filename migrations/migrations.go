// Package migrations holds the SQL schema, embedded so the binary carries it.
package migrations

import "embed"

// FS holds the goose migrations.
//
//go:embed *.sql
var FS embed.FS
