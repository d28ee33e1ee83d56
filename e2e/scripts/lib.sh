# shellcheck shell=bash
# Shared settings and helpers for the e2e control-plane scripts. Sourced, never run.
#
# Every setting is an environment variable with a default, so two checkouts (or CI and a
# developer) can run side by side with a different KREPLAY_E2E_DIR and ports.

E2E_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
E2E_DIR="$(cd "$E2E_SCRIPTS_DIR/.." && pwd)"
REPO_ROOT="$(cd "$E2E_DIR/.." && pwd)"
CLUSTER_MODULE_DIR="$E2E_DIR/cluster"

STATE_DIR="$(realpath -m "${KREPLAY_E2E_DIR:-$REPO_ROOT/.e2e}")"
CACHE_ROOT="${XDG_CACHE_HOME:-$HOME/.cache}/kreplay/e2e-cluster"

ETCD_PORT="${KREPLAY_E2E_ETCD_PORT:-32379}"
ETCD_PEER_PORT="${KREPLAY_E2E_ETCD_PEER_PORT:-32380}"
APISERVER_PORT="${KREPLAY_E2E_APISERVER_PORT:-36443}"

ETCD_URL="http://127.0.0.1:$ETCD_PORT"
APISERVER_URL="https://127.0.0.1:$APISERVER_PORT"

# Layout of the state dir; e2e/harness.ts reads the same names.
PID_DIR="$STATE_DIR/pids"
LOG_DIR="$STATE_DIR/logs"
PKI_DIR="$STATE_DIR/pki"
ETCD_DATA_DIR="$STATE_DIR/etcd-data"
KUBECONFIG_FILE="$STATE_DIR/kubeconfig"
BIN_LINK="$STATE_DIR/bin"
BASELINE_FILE="$STATE_DIR/baseline.env"

log() { printf '[e2e] %s\n' "$*" >&2; }
die() { printf '[e2e] error: %s\n' "$*" >&2; exit 1; }

# Go is at /usr/local/go on the project's machines but not always on PATH.
ensure_go() {
  if ! command -v go >/dev/null 2>&1 && [[ -x /usr/local/go/bin/go ]]; then
    export PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null 2>&1 || die "go not found (need Go >= 1.26 to build the control plane)"
}

# The cache key is the pinned Kubernetes version plus a hash of go.mod, go.sum and
# BUILD_RECIPE: any change to a pin or a replace line gives a new directory, and an old one is
# never reused by mistake. Bump BUILD_RECIPE when build.sh changes what it produces (flags,
# file names), so caches built by the old recipe are not picked up.
BUILD_RECIPE=2
cluster_version() {
  sed -n 's/^[[:space:]]*k8s\.io\/kubernetes \(v[0-9.]*\)\([[:space:]].*\)\{0,1\}$/\1/p' "$CLUSTER_MODULE_DIR/go.mod" | head -n1
}
cluster_key() {
  local hash
  hash="$({ cat "$CLUSTER_MODULE_DIR/go.mod" "$CLUSTER_MODULE_DIR/go.sum"; echo "recipe=$BUILD_RECIPE"; } \
    | sha256sum | cut -c1-16)"
  printf '%s-%s' "$(cluster_version)" "$hash"
}
cluster_bin_dir() { printf '%s/%s' "$CACHE_ROOT" "$(cluster_key)"; }

# --- processes -------------------------------------------------------------------------
# Each process we start has <state>/pids/<name>.pid. We only ever signal a PID from such a
# file, and only if /proc says it is still running the binary we started (PIDs get reused).

pid_of() {
  local name="$1" file="$PID_DIR/$1.pid" pid exe
  [[ -f "$file" ]] || return 1
  pid="$(cat "$file")"
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  exe="$(readlink "/proc/$pid/exe" 2>/dev/null)" || return 1
  [[ "$(basename "${exe% (deleted)}")" == "$name" ]] || return 1
  printf '%s' "$pid"
}

is_running() { pid_of "$1" >/dev/null; }

# start_process NAME ARGS... : runs the cached binary NAME in its own session (so a Ctrl-C in
# the terminal or the test runner does not take it down), logging to <state>/logs/NAME.log.
start_process() {
  local name="$1"; shift
  local bin="$BIN_LINK/$name"
  [[ -x "$bin" ]] || die "$bin missing; run e2e/scripts/build.sh"
  mkdir -p "$PID_DIR" "$LOG_DIR"
  printf '\n===== %s start %s =====\n' "$name" "$(date -u +%FT%TZ)" >>"$LOG_DIR/$name.log"
  # The inner shell writes its own PID and then execs, so the file holds the binary's PID
  # whether or not setsid had to fork.
  # shellcheck disable=SC2016 # expanded by the inner shell
  setsid bash -c 'echo $$ >"$1"; shift; exec "$@"' _ "$PID_DIR/$name.pid" "$bin" "$@" \
    >>"$LOG_DIR/$name.log" 2>&1 </dev/null &
  for _ in $(seq 1 50); do
    is_running "$name" && return 0
    sleep 0.1
  done
  tail -n 30 "$LOG_DIR/$name.log" >&2 || true
  die "$name did not start (log: $LOG_DIR/$name.log)"
}

# stop_process NAME [TIMEOUT_S]: SIGTERM, wait, then SIGKILL. Quiet when it is not running.
stop_process() {
  local name="$1" timeout="${2:-20}" pid
  if ! pid="$(pid_of "$name")"; then
    rm -f "$PID_DIR/$name.pid"
    return 0
  fi
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 1 $((timeout * 10))); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "$name ($pid) ignored SIGTERM for ${timeout}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
  fi
  rm -f "$PID_DIR/$name.pid"
}

port_in_use() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# --- readiness -------------------------------------------------------------------------

admin_token() { cat "$PKI_DIR/admin.token"; }

# api METHOD PATH [curl args...]: an authenticated request to the API server as admin.
api() {
  local method="$1" path="$2"; shift 2
  curl -sS --fail-with-body --max-time 30 --cacert "$PKI_DIR/ca.crt" \
    -H "Authorization: Bearer $(admin_token)" -X "$method" "$@" "$APISERVER_URL$path"
}

wait_for_etcd() {
  local deadline=$((SECONDS + ${1:-30}))
  until curl -sf --max-time 2 "$ETCD_URL/health" 2>/dev/null | grep -q '"health":"true"'; do
    if ! is_running etcd; then tail -n 30 "$LOG_DIR/etcd.log" >&2; die "etcd exited"; fi
    ((SECONDS < deadline)) || { tail -n 30 "$LOG_DIR/etcd.log" >&2; die "etcd not healthy in time"; }
    sleep 0.2
  done
}

wait_for_apiserver() {
  local deadline=$((SECONDS + ${1:-90}))
  until api GET /readyz -o /dev/null 2>/dev/null; do
    if ! is_running kube-apiserver; then
      tail -n 40 "$LOG_DIR/kube-apiserver.log" >&2
      die "kube-apiserver exited (log: $LOG_DIR/kube-apiserver.log)"
    fi
    if ((SECONDS >= deadline)); then
      api GET '/readyz?verbose' >&2 || true
      tail -n 40 "$LOG_DIR/kube-apiserver.log" >&2
      die "kube-apiserver not ready in time"
    fi
    sleep 0.3
  done
}
