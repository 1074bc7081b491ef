package packs

import (
	"errors"
	"testing"

	"carnet/internal/errs"
)

func TestClientInput(t *testing.T) {
	s := func(v string) *string { return &v }
	cases := []struct {
		name  string
		in    ClientInput
		field string
	}{
		{"ok", ClientInput{Name: s("Léa"), Email: s("lea@example.com")}, ""},
		{"trimmed", ClientInput{Name: s("  Léa "), Email: s(" lea@example.com ")}, ""},
		{"no name", ClientInput{Email: s("lea@example.com")}, "name"},
		{"blank name", ClientInput{Name: s("   "), Email: s("lea@example.com")}, "name"},
		{"no email", ClientInput{Name: s("Léa")}, "email"},
		{"no at", ClientInput{Name: s("Léa"), Email: s("lea.example.com")}, "email"},
		{"no domain dot", ClientInput{Name: s("Léa"), Email: s("lea@example")}, "email"},
		{"space", ClientInput{Name: s("Léa"), Email: s("le a@example.com")}, "email"},
		{"locale", ClientInput{Name: s("Léa"), Email: s("lea@example.com"), Locale: s("de")}, "locale"},
		{"long phone", ClientInput{Name: s("Léa"), Email: s("lea@example.com"), Phone: s("0123456789012345678901234567890123456789x")}, "phone"},
	}
	for _, tc := range cases {
		c := Client{Locale: "fr"}
		err := tc.in.apply(&c)
		var e *errs.Error
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.name, err)
		case tc.field != "" && (!errors.As(err, &e) || e.Field != tc.field):
			t.Errorf("%s: error %v, want field %s", tc.name, err, tc.field)
		case tc.field == "" && (c.Name != "Léa" || c.Email != "lea@example.com"):
			t.Errorf("%s: not trimmed: %q %q", tc.name, c.Name, c.Email)
		}
	}
}
