#!/bin/sh
# The Go baseline of cross_hub_bench: go_channels.go with GOMAXPROCS=2, run 3 times (each line:
# ns per round trip). Needs `go` (golang-go); prints nothing and exits 0 without it.
set -e
command -v go >/dev/null 2>&1 || { echo "go not installed: no Go baseline" >&2; exit 0; }
here=$(cd "$(dirname "$0")" && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$here" && GOCACHE=$tmp/gocache go build -o "$tmp/go_channels" go_channels.go)
for i in 1 2 3; do GOMAXPROCS=2 "$tmp/go_channels" "${1:-200000}"; done
