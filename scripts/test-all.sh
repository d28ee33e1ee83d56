#!/usr/bin/env bash
# Every test kreplay has: typecheck, lint, unit, integration, the Go SDK, end-to-end on a real control plane, and the
# zoo of real controllers on it.
# Builds the control plane the first time (10-20 min on two cores; cached under ~/.cache/kreplay afterwards),
# starts it on loopback, runs the tests, and stops exactly what it started, whatever happens.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PATH="$PATH:/usr/local/go/bin"

bash e2e/scripts/build.sh
bash e2e/scripts/up.sh
trap 'bash e2e/scripts/down.sh' EXIT

# The Go SDK first: its build cache then serves the TS suite's live Go-to-recorder test.
bash sdk/go/test.sh
npm test
npm run test:e2e
# The zoo last, on the same control plane: real controllers recorded three ways, checked (e2e/zoo/README.md).
npm run test:zoo
