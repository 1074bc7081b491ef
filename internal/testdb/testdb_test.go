package testdb

import (
	"strings"
	"testing"

	"carnet/internal/jobs"
)

// The template is named after River's real migrations, not a string to
// bump by hand: another River schema is another template.
func TestTemplateHashFollowsRiversSchema(t *testing.T) {
	river, err := jobs.Schema()
	if err != nil || !strings.Contains(river, "river_job") {
		t.Fatalf("River's migrations: %v %.200s", err, river)
	}
	if schemaHashFor(river) == schemaHashFor(river+"ALTER TABLE river_job ADD COLUMN x int;") {
		t.Fatal("the template hash ignores River's schema")
	}
	if h, err := schemaHash(); err != nil || h != schemaHashFor(river) {
		t.Fatalf("schemaHash %q %v", h, err)
	}
}
