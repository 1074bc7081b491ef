#!/usr/bin/env bash
# Runs golangci-lint (v2, configured by .golangci.yml) at the version pinned
# here, built once from the Go module proxy into .data/bin.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VERSION=v2.15.0
BIN="$ROOT/.data/bin/golangci-lint-$VERSION"
if [[ ! -x $BIN ]]; then
  echo "lint: building golangci-lint $VERSION (once)" >&2
  mkdir -p "$ROOT/.data/bin/tmp"
  GOBIN="$ROOT/.data/bin/tmp" go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$VERSION"
  mv "$ROOT/.data/bin/tmp/golangci-lint" "$BIN"
fi
cd "$ROOT"
exec "$BIN" run ./...
