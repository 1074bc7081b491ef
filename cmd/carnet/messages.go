package main

import (
	"carnet/reconcile"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
)

//go:generate go run . messages render ../../docs/messages

// exampleBase is the base URL the committed examples link to.
const exampleBase = "https://carnet.example"

// messages render DIR writes every message in fr, es and en, from the
// demo's situations, as docs/messages holds them (go generate runs it).
func (m *Main) messages(args []string, out io.Writer) error {
	if len(args) != 2 || args[0] != "render" {
		return usageError("usage: carnet messages render DIR")
	}
	files, err := reconcile.ExampleFiles(exampleBase)
	if err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(files)) {
		path := filepath.Join(args[1], name)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(path, files[name], 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "%d files written to %s\n", len(files), args[1])
	return nil
}
