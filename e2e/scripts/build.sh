#!/usr/bin/env bash
# Builds kube-apiserver, etcd and sample-controller from e2e/cluster (one pinned Kubernetes
# version) into ${XDG_CACHE_HOME:-$HOME/.cache}/kreplay/e2e-cluster/<version>-<hash>/ and
# points <state>/bin at it. Skips the build when that directory is complete, so a warm start
# costs a hash of two files. Prints the binary directory on stdout.
#
#   KREPLAY_E2E_REBUILD=1   build even if the cache directory exists
#   GOFLAGS                 passed through (CI uses -p=2 on its 2 cores)
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BINARIES=(kube-apiserver etcd kube-controller-manager sample-controller)

cache_complete() {
  local dir="$1" b
  [[ -f "$dir/BUILD_INFO" ]] || return 1
  for b in "${BINARIES[@]}"; do [[ -x "$dir/$b" ]] || return 1; done
}

link_state_bin() {
  mkdir -p "$STATE_DIR"
  ln -sfn "$1" "$BIN_LINK"
}

main() {
  local out
  out="$(cluster_bin_dir)"
  if [[ "${KREPLAY_E2E_REBUILD:-0}" != 1 ]] && cache_complete "$out"; then
    log "control plane binaries cached: $out"
    link_state_bin "$out"
    printf '%s\n' "$out"
    return 0
  fi

  ensure_go
  mkdir -p "$CACHE_ROOT"
  # Two `npm run e2e:up` at once (or CI and a developer) must not build into the same place.
  exec 9>"$CACHE_ROOT/.build.lock"
  flock 9
  if [[ "${KREPLAY_E2E_REBUILD:-0}" != 1 ]] && cache_complete "$out"; then
    link_state_bin "$out"
    printf '%s\n' "$out"
    return 0
  fi

  local version major minor build_date start
  version="$(cluster_version)"
  [[ -n "$version" ]] || die "cannot read the k8s.io/kubernetes version from $CLUSTER_MODULE_DIR/go.mod"
  major="${version#v}"; major="${major%%.*}"
  minor="${version#v*.}"; minor="${minor%%.*}"

  cd "$CLUSTER_MODULE_DIR"
  # The release's commit time, so BUILD_INFO and /version do not change from build to build.
  build_date="$(go list -m -f '{{if .Time}}{{.Time.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}' k8s.io/kubernetes)"

  # Same -X flags as kubernetes' hack/lib/version.sh, so GET /version reports the real version
  # (and the apiserver's emulation/compatibility version matches it).
  local pkg=k8s.io/component-base/version
  local ldflags="-s -w -X $pkg.gitVersion=$version -X $pkg.gitMajor=$major -X $pkg.gitMinor=$minor"
  # The module zip has no git metadata: leave gitCommit empty rather than '$Format:%H$'.
  ldflags+=" -X $pkg.gitCommit= -X $pkg.gitTreeState=clean -X $pkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
  ldflags+=" -X k8s.io/client-go/pkg/version.gitVersion=$version"

  # Global, not local: the EXIT trap runs after main's locals are gone.
  BUILD_TMP="$(mktemp -d "$CACHE_ROOT/.build.XXXXXX")"
  local tmp="$BUILD_TMP"
  chmod 755 "$tmp"
  trap 'rm -rf "$BUILD_TMP"' EXIT
  log "building control plane $version into $out (cold build: ~10-20 min on 2 cores)"
  start=$SECONDS
  # One invocation, so the packages the three binaries share are compiled once.
  CGO_ENABLED=0 go build -trimpath -ldflags "$ldflags" -o "$tmp/" \
    k8s.io/kubernetes/cmd/kube-apiserver \
    k8s.io/kubernetes/cmd/kube-controller-manager \
    go.etcd.io/etcd/server/v3 \
    k8s.io/sample-controller
  # `go build -o dir/` names a /vN module's binary after the element before /vN.
  mv "$tmp/server" "$tmp/etcd"

  # sample-controller's CRD and example, from the exact module version that was built.
  local sc_dir
  sc_dir="$(go list -m -f '{{.Dir}}' k8s.io/sample-controller)"
  install -m 0644 "$sc_dir/artifacts/examples/crd-status-subresource.yaml" "$tmp/foo-crd.yaml"
  install -m 0644 "$sc_dir/artifacts/examples/example-foo.yaml" "$tmp/example-foo.yaml"

  {
    printf 'kubernetes=%s\n' "$version"
    printf 'etcd=%s\n' "$(go list -m -f '{{.Version}}' go.etcd.io/etcd/server/v3)"
    printf 'sample-controller=%s\n' "$(go list -m -f '{{.Version}}' k8s.io/sample-controller)"
    printf 'go=%s\n' "$(go env GOVERSION)"
    printf 'build_seconds=%s\n' "$((SECONDS - start))"
  } >"$tmp/BUILD_INFO"

  rm -rf "$out"
  mv "$tmp" "$out"
  trap - EXIT
  log "built in $((SECONDS - start))s: $out"
  link_state_bin "$out"
  printf '%s\n' "$out"
}

main "$@"
