package failpoint

import "testing"

func TestParse(t *testing.T) {
	got := parse(" after-commit, mid-webhook=evt_1,,")
	if len(got) != 2 || !got["after-commit"] || !got["mid-webhook=evt_1"] {
		t.Fatalf("parse: %v", got)
	}
	if len(parse("")) != 0 {
		t.Fatal("an empty setting arms nothing")
	}
}
