#!/usr/bin/env bash
# The Go reporting SDK's CI hook: vet and test the module (called from the repo's npm test / CI).
# Cold (empty module and build caches) it downloads ~55 modules (~220 MB) through the Go module proxy and compiles
# client-go, k8s.io/api and controller-runtime: ~480 CPU-seconds, so about 4-5 minutes on an idle 2-core machine
# (measured 7.5 minutes wall on a loaded one); warm, a few seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v go >/dev/null 2>&1; then
  echo "sdk/go/test.sh: go is not installed (Go 1.26 needed)" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
