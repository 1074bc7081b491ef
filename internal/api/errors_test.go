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

// A code missing from the table is our bug: 500, never a 400 that blames
// the caller. The 405 and the 429 have their own codes.
func TestStatusOfCodes(t *testing.T) {
	for code, want := range map[string]int{"no_such_code": 500, errs.MethodNotAllowed: 405, errs.RateLimited: 429,
		errs.Unavailable: 503, errs.Invalid: 400, errs.Internal: 500} {
		if got := Status(code); got != want {
			t.Errorf("%s: %d, want %d", code, got, want)
		}
	}
}

// Tokens are hidden wherever a path or a query carries them.
func TestRedaction(t *testing.T) {
	for in, want := range map[string]string{
		"/c/cl_1.2.3.sig":            "/c/[redacted]",
		"/c/anything":                "/c/[redacted]",
		"/v1/clients/12/links":       "/v1/clients/12/links",
		"/checkout/local/3":          "/checkout/local/3",
		"/nowhere/ck_secret/x":       "/nowhere/[redacted]/x",
		"/app/signin/si_abc":         "/app/signin/[redacted]",
		"/app/c/not-the-client-page": "/app/c/not-the-client-page",
	} {
		if got := RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"token=co_1.2.sig&answer=ok": "answer=ok&token=%5Bredacted%5D",
		"limit=5":                    "limit=5",
		"x=cl_1.2.3.s":               "x=%5Bredacted%5D",
		"%zz":                        "[redacted]",
	} {
		if got := RedactQuery(in); got != want {
			t.Errorf("RedactQuery(%q) = %q, want %q", in, got, want)
		}
	}
}
