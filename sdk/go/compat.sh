#!/usr/bin/env bash
# The Go SDK against the controller-runtime releases operators run (sdk/README.md, "Supported versions").
#
#   bash sdk/go/compat.sh                  # the oldest (this module's own go.mod) and the newest supported release
#   bash sdk/go/compat.sh v0.22.5 v0.23.3  # any releases
#
# For each release it takes the k8s.io version and the minimum Go from that release's own go.mod, and builds with
# that Go (fetched by the go command as the toolchain module, GOTOOLCHAIN) when it is older than the local one:
#   1. an operator's module requiring exactly that controller-runtime and k8s.io, plus this SDK (a replace to this
#      directory), builds and vets testdata/consumer (a controller using the reconciler, handler and client
#      wrappers), and after `go mod tidy` still selects exactly those versions: the SDK drags nothing forward;
#   2. the SDK's own vet and unit tests pass with its requirements moved to that release (a -modfile copy).
# Cold, each release costs its modules' download (~150 MB) and a compile of client-go and controller-runtime
# (~4 minutes on an idle 2-core machine; the toolchain of an older Go ~70 MB more); warm, seconds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"
sdk_dir=$(pwd)

# The newest supported release; the oldest is the one this module requires. Raise NEWEST when a release is out.
NEWEST=v0.25.3
OLDEST=$(GOTOOLCHAIN=local go list -m -f '{{.Version}}' sigs.k8s.io/controller-runtime)

versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=("$OLDEST" "$NEWEST")
fi

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Runs a command with its chatter (go get's upgrade list, downloads) kept in a log shown only when it fails.
quiet() {
  if ! "$@" >"$work/step.log" 2>&1; then
    cat "$work/step.log" >&2
    echo "compat.sh: failed: $*" >&2
    return 1
  fi
}

# The local Go's minor version, e.g. 26 for go1.26.8.
minor_of() { echo "$1" | sed -E 's/^(go)?1\.([0-9]+).*/\2/'; }
local_minor=$(minor_of "$(GOTOOLCHAIN=local go env GOVERSION)")

for cr in "${versions[@]}"; do
  gomod=$(GOTOOLCHAIN=local go mod download -json "sigs.k8s.io/controller-runtime@$cr" | sed -n 's/^\t"GoMod": "\(.*\)",$/\1/p')
  if [ -z "$gomod" ] || [ ! -f "$gomod" ]; then
    echo "compat.sh: controller-runtime $cr: cannot download its go.mod" >&2
    exit 1
  fi
  k8s=$(awk '$1 == "k8s.io/client-go" { print $2 }' "$gomod")
  go_min=$(awk '$1 == "go" { print $2 }' "$gomod")
  toolchain=local
  if [ "$(minor_of "$go_min")" -lt "$local_minor" ]; then
    toolchain="go$go_min"
  fi
  echo "== controller-runtime $cr, k8s.io $k8s, Go $go_min (toolchain: $toolchain)"
  export GOTOOLCHAIN=$toolchain

  # 1. An operator's module pinned to this release.
  consumer="$work/consumer-$cr"
  mkdir -p "$consumer"
  cp testdata/consumer/main.go "$consumer/"
  cat >"$consumer/go.mod" <<EOF
module example.com/operator

go $go_min

require (
	github.com/kreplay/kreplay/sdk/go v0.0.0
	k8s.io/api $k8s
	k8s.io/apimachinery $k8s
	k8s.io/client-go $k8s
	sigs.k8s.io/controller-runtime $cr
)

replace github.com/kreplay/kreplay/sdk/go => $sdk_dir
EOF
  (
    cd "$consumer"
    quiet go mod tidy
    go build -o /dev/null .
    go vet .
    for pin in "sigs.k8s.io/controller-runtime $cr" "k8s.io/api $k8s" "k8s.io/apimachinery $k8s" "k8s.io/client-go $k8s"; do
      got=$(go list -m -f '{{.Path}} {{.Version}}' "${pin% *}")
      if [ "$got" != "$pin" ]; then
        echo "compat.sh: an operator pinned to $pin gets $got once it requires the SDK: the SDK's go.mod drags it forward" >&2
        exit 1
      fi
    done
    if [ "$(go list -m -f '{{.GoVersion}}')" != "$go_min" ]; then
      echo "compat.sh: requiring the SDK raised the operator's go directive above $go_min" >&2
      exit 1
    fi
  )
  echo "   operator module builds, vets and keeps its versions"

  # 2. The SDK's own tests against this release.
  cp go.mod "$work/sdk-$cr.mod"
  cp go.sum "$work/sdk-$cr.sum"
  modfile=-modfile="$work/sdk-$cr.mod"
  quiet go get "$modfile" "sigs.k8s.io/controller-runtime@$cr" "k8s.io/api@$k8s" "k8s.io/apimachinery@$k8s" "k8s.io/client-go@$k8s"
  quiet go mod tidy "$modfile"
  go vet "$modfile" ./...
  # From v0.22 on the Apply test must run, not skip (apply_test.go).
  cr_minor=$(echo "$cr" | sed -E 's/^v0\.([0-9]+).*/\1/')
  KREPLAY_EXPECT_APPLY=$([ "$cr_minor" -ge 22 ] && echo 1 || echo 0) go test "$modfile" -count=1 ./...
done
