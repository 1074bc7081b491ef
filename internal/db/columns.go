package db

import (
	"reflect"
	"strings"
)

// Columns lists the columns T's db tags name, optionally qualified by a
// table alias, for SELECT and RETURNING lists. Queries name the columns this
// binary reads instead of `*`: during a rolling deploy the newer release may
// already have added a column, and sqlx refuses to scan a column a struct
// has no field for.
func Columns[T any](alias string) string {
	var cols []string
	collect(reflect.TypeFor[T](), &cols)
	prefix := ""
	if alias != "" {
		prefix = alias + "."
	}
	for i, c := range cols {
		cols[i] = prefix + c
	}
	return strings.Join(cols, ", ")
}

func collect(t reflect.Type, cols *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("db")
		switch {
		case tag == "-" || !f.IsExported():
		case f.Anonymous && !ok && f.Type.Kind() == reflect.Struct:
			collect(f.Type, cols)
		case ok:
			*cols = append(*cols, strings.Split(tag, ",")[0])
		default:
			*cols = append(*cols, strings.ToLower(f.Name)) // sqlx's own default
		}
	}
}
