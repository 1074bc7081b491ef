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
//
// A field tagged `select:"expr"` is read as `expr AS name`, with `$.` in
// expr standing for the alias: a value kept in another table (a coach's
// language) is read like a column of this one.
func Columns[T any](alias string) string {
	var cols []string
	prefix := ""
	if alias != "" {
		prefix = alias + "."
	}
	collect(reflect.TypeFor[T](), prefix, &cols)
	return strings.Join(cols, ", ")
}

func collect(t reflect.Type, prefix string, cols *[]string) {
	for i := range t.NumField() {
		f := t.Field(i)
		tag, ok := f.Tag.Lookup("db")
		name := strings.Split(tag, ",")[0]
		if !ok {
			name = strings.ToLower(f.Name) // sqlx's own default
		}
		switch expr, derived := f.Tag.Lookup("select"); {
		case f.Anonymous && !ok && f.Type.Kind() == reflect.Struct:
			collect(f.Type, prefix, cols)
		case tag == "-" || !f.IsExported():
		case derived:
			*cols = append(*cols, strings.ReplaceAll(expr, "$.", prefix)+" AS "+name)
		default:
			*cols = append(*cols, prefix+name)
		}
	}
}
