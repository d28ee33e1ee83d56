#!/usr/bin/env bash
# The Go reporting SDK's CI hook (called from scripts/test-all.sh): vet and test the module with its own
# requirements (controller-runtime v0.20.0, the oldest supported; the build cache then also serves the TS suite's
# live Go-to-recorder test), then compat.sh: an operator module pinned to the oldest and to the newest supported
# controller-runtime release builds with the SDK, and the SDK's tests pass against both (sdk/README.md).
# Cold (empty module and build caches) each of the three builds downloads its modules through the Go module proxy
# (~150 MB each; the oldest's Go 1.23 toolchain ~70 MB more) and compiles client-go, k8s.io/api and
# controller-runtime, ~4 CPU-minutes each: about 15 minutes on an idle 2-core machine, measured 9 minutes wall for
# one on a loaded one. Warm, under a minute.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
if ! command -v go >/dev/null 2>&1; then
  echo "sdk/go/test.sh: go is not installed (Go 1.23 or later; compat.sh fetches the toolchains it needs)" >&2
  exit 1
fi
go vet ./...
go test -count=1 ./...
bash compat.sh
