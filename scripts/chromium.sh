#!/usr/bin/env bash
# Makes sure Debian's Chromium is installed for the browser tests, and prints
# its path. As root it installs the package; otherwise through sudo when
# there is one; else it stops with a message saying what to install.
set -euo pipefail

find_chromium() {
	command -v chromium || command -v chromium-browser || true
}

bin=$(find_chromium)
if [[ -z "$bin" ]]; then
	if [[ $(id -u) -eq 0 ]]; then
		as=()
	elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
		as=(sudo -n)
	else
		echo "chromium.sh: Chromium is missing and this user cannot install it." >&2
		echo "  install Debian's package as root: apt-get update && apt-get install -y chromium" >&2
		exit 1
	fi
	echo "chromium.sh: installing Debian's chromium package (once)" >&2
	"${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
	"${as[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >&2
	bin=$(find_chromium)
	[[ -n "$bin" ]] || { echo "chromium.sh: chromium still not found after install" >&2; exit 1; }
fi
echo "$bin"
