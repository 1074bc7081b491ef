package api

import (
	"testing"

	"carnet/internal/errs"
)

func TestEveryCodeHasAStatus(t *testing.T) {
	for _, code := range errs.Codes {
		if statusOf[code] == 0 {
			t.Errorf("code %s has no HTTP status", code)
		}
	}
}

func TestCursorRoundTrip(t *testing.T) {
	for _, id := range []int64{0, 1, 35, 36, 1 << 40} {
		got, err := DecodeCursor(EncodeCursor(id))
		if err != nil || got != id {
			t.Errorf("cursor %d came back as %d, %v", id, got, err)
		}
	}
	for _, bad := range []string{"", "x12", "c", "c-5", "c!!"} {
		if _, err := DecodeCursor(bad); errs.CodeOf(err) != errs.Invalid {
			t.Errorf("cursor %q: %v", bad, err)
		}
	}
}
