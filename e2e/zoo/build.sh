#!/usr/bin/env bash
# Builds the zoo binary into ${XDG_CACHE_HOME:-$HOME/.cache}/kreplay/zoo/<hash>/zoo, or reuses it, and prints its
# path. The key hashes everything the binary is made of: the zoo's go.mod, go.sum and Go sources, and the Go SDK's
# (a replace directive builds it from sdk/go). Like the control plane: a warm start costs a hash.
#
#   KREPLAY_ZOO_REBUILD=1   build even if the cache directory exists
#   GOFLAGS                 passed through (CI uses -p=2 on its 2 cores)
set -euo pipefail
ZOO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$ZOO_DIR/../.." && pwd)"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kreplay/zoo"
# Bump when this script changes what it produces.
RECIPE=1

log() { printf '[zoo] %s\n' "$*" >&2; }
die() { printf '[zoo] error: %s\n' "$*" >&2; exit 1; }

if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then export PATH="$PATH:/usr/local/go/bin"; fi
command -v go >/dev/null 2>&1 || die "go not found (need Go >= 1.26 to build the zoo)"

key() {
  {
    echo "recipe=$RECIPE"
    go env GOVERSION
    cd "$REPO_ROOT"
    # Sorted, NUL-safe: the same tree gives the same key on every machine.
    find e2e/zoo sdk/go -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' \
      ! -path 'e2e/zoo/out/*' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}

out="$CACHE_ROOT/$(key)"
if [[ "${KREPLAY_ZOO_REBUILD:-0}" != 1 && -x "$out/zoo" && -f "$out/BUILD_INFO" ]]; then
  log "zoo binary cached: $out/zoo"
  printf '%s\n' "$out/zoo"
  exit 0
fi

mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.build.lock"
flock 9
if [[ "${KREPLAY_ZOO_REBUILD:-0}" != 1 && -x "$out/zoo" && -f "$out/BUILD_INFO" ]]; then
  printf '%s\n' "$out/zoo"
  exit 0
fi
BUILD_TMP="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
trap 'rm -rf "$BUILD_TMP"' EXIT
log "building the zoo into $out"
start=$SECONDS
(cd "$ZOO_DIR" && CGO_ENABLED=0 go build -trimpath -ldflags "-s -w" -o "$BUILD_TMP/zoo" .)
{
  printf 'controllers=%s\n' "$("$BUILD_TMP/zoo" list | tr '\n' ' ')"
  printf 'go=%s\n' "$(go env GOVERSION)"
  printf 'build_seconds=%s\n' "$((SECONDS - start))"
} >"$BUILD_TMP/BUILD_INFO"
rm -rf "$out"
mv "$BUILD_TMP" "$out"
chmod 755 "$out"
trap - EXIT
log "built in $((SECONDS - start))s: $out/zoo"
printf '%s\n' "$out/zoo"
