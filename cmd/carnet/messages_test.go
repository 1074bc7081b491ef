package main

import (
	"carnet/reconcile"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var catalogID = regexp.MustCompile(`\b(kind|fact|value|status|dispute|next|outcome|cost|preview)\.[a-z_]+\b`)

// docs/messages is what `carnet messages render` writes today: a template
// or a word changed without regenerating it fails here.
func TestMessageDocsAreCurrent(t *testing.T) {
	want, err := reconcile.ExampleFiles(exampleBase)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join("..", "..", "docs", "messages")
	seen := map[string]bool{}
	err = filepath.WalkDir(dir, func(path string, e fs.DirEntry, err error) error {
		if err != nil || e.IsDir() || e.Name() == "README.md" {
			return err
		}
		name, _ := filepath.Rel(dir, path)
		name = filepath.ToSlash(name)
		seen[name] = true
		got, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if w, ok := want[name]; !ok {
			t.Errorf("docs/messages/%s is no message Carnet sends any more", name)
		} else if string(got) != string(w) {
			t.Errorf("docs/messages/%s is stale", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for name, body := range want {
		if !seen[name] {
			t.Errorf("docs/messages/%s is missing", name)
		}
		// A hole, a word missing from a catalog (its id shows instead), or
		// a code in a client's message.
		if strings.Contains(string(body), "{{") || strings.Contains(string(body), "<no value>") || catalogID.Match(body) ||
			(strings.Contains(name, "client") && strings.HasSuffix(name, ".txt") && strings.Contains(string(body), "_")) {
			t.Errorf("docs/messages/%s has a hole or a code:\n%s", name, body)
		}
	}
	if t.Failed() {
		t.Log("regenerate with: go generate ./cmd/carnet (or carnet messages render docs/messages)")
	}
}
