package db

import "testing"

func TestColumnsNameWhatAStructScans(t *testing.T) {
	type base struct {
		ID int64 `db:"id"`
	}
	type row struct {
		base
		Name    string `db:"name,omitempty"`
		Locale  string `db:"locale" select:"coach_locale($.id)"`
		Skipped string `db:"-"`
		hidden  string //nolint:unused // unexported fields are never columns
		Plain   int
	}
	for _, c := range []struct{ alias, want string }{
		{"", "id, name, coach_locale(id) AS locale, plain"},
		{"co", "co.id, co.name, coach_locale(co.id) AS locale, co.plain"},
	} {
		if got := Columns[row](c.alias); got != c.want {
			t.Errorf("Columns(%q) = %q, want %q", c.alias, got, c.want)
		}
	}
}
