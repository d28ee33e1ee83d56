#!/usr/bin/env bash
# Fault controls for the running e2e control plane. e2e/harness.ts calls these too.
#
#   ctl.sh status
#   ctl.sh restart-apiserver [--watch-cache=true|false] [--min-request-timeout=SECONDS]
#                            [--audit-webhook-url=URL] [--etcd-compaction-interval=DURATION]
#       Stops and starts kube-apiserver; waits for /readyz. The flags hold for this run of the
#       API server only; without flags it goes back to the baseline that `up` chose.
#       A restart alone already expires every older resourceVersion for watches served from
#       the watch cache (the new cache starts at the current revision).
#   ctl.sh compact [--no-restart]
#       Compacts etcd past every resourceVersion handed out so far (the compaction revision
#       is printed on stdout), then restarts the API server so its watch cache forgets the
#       history too. Afterwards a watch from any of those resourceVersions gets the in-stream
#       ERROR 410 Expired and a LIST at one of them (resourceVersionMatch=Exact) gets HTTP 410.
#       --no-restart compacts etcd only: with the watch cache on, watches are still served
#       from the cache's memory; only reads that go to etcd see the 410.
#   ctl.sh stop-etcd [--kill] | start-etcd
#   ctl.sh stop-sample-controller | start-sample-controller
#   ctl.sh stop-kube-controller-manager | start-kube-controller-manager
#   ctl.sh ensure-baseline  start etcd if stopped; restart the API server if it is stopped or
#                           running with other flags than `up` chose (tests' cleanup)
#   ctl.sh revision        current etcd revision (the newest resourceVersion)
#   ctl.sh logs            paths of the logs
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$E2E_SCRIPTS_DIR/components.sh"

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2; exit "${1:-2}"; }

require_state() {
  [[ -f "$KUBECONFIG_FILE" && -d "$PKI_DIR" ]] \
    || die "no control plane state in $STATE_DIR; run 'npm run e2e:up' first"
}

restart_apiserver() {
  load_baseline
  local arg
  for arg in "$@"; do
    case "$arg" in
      --watch-cache=true | --watch-cache=false) WATCH_CACHE="${arg#*=}" ;;
      --min-request-timeout=*) MIN_REQUEST_TIMEOUT="${arg#*=}" ;;
      --audit-webhook-url=*) AUDIT_WEBHOOK_URL="${arg#*=}" ;;
      --etcd-compaction-interval=*) ETCD_COMPACTION_INTERVAL="${arg#*=}" ;;
      *) die "restart-apiserver: unknown option $arg" ;;
    esac
  done
  [[ "$MIN_REQUEST_TIMEOUT" =~ ^[0-9]+$ ]] || die "--min-request-timeout needs whole seconds"
  local start=$SECONDS stopped
  stop_process kube-apiserver
  stopped=$SECONDS
  start_apiserver
  log "kube-apiserver restarted in $((SECONDS - start))s (stop $((stopped - start))s, start $((SECONDS - stopped))s)"
}

compact() {
  local restart=1 arg rev
  for arg in "$@"; do
    case "$arg" in
      --no-restart) restart=0 ;;
      *) die "compact: unknown option $arg" ;;
    esac
  done
  is_running etcd || die "etcd is not running"
  # etcd serves a watch from resourceVersion N starting at revision N+1, and a compaction at
  # R keeps R itself. Two writes outside the API server's /registry prefix first, so that
  # R >= (any resourceVersion handed out before this call) + 2 and every one of them is
  # expired, including the newest.
  etcd_put /kreplay-e2e/compaction-marker "$(date +%s%N)" >/dev/null
  rev="$(etcd_put /kreplay-e2e/compaction-marker "$(date +%s%N)")"
  [[ -n "$rev" ]] || die "could not read the etcd revision"
  # physical: return only once the compaction has been applied to the backend, so the next
  # read of an older revision fails deterministically.
  curl -sS --fail --max-time 30 -X POST "$ETCD_URL/v3/kv/compaction" \
    -d "{\"revision\":\"$rev\",\"physical\":true}" -o /dev/null \
    || die "etcd compaction at revision $rev failed"
  log "etcd compacted at revision $rev"
  if ((restart)); then restart_apiserver; fi
  printf '%s\n' "$rev"
}

ensure_baseline() {
  start_etcd
  if ! is_running kube-apiserver || ! cmp -s "$STATE_DIR/apiserver.env" "$BASELINE_FILE"; then
    restart_apiserver
  else
    wait_for_apiserver 60
  fi
}

status() {
  local name pid rc=0
  for name in etcd kube-apiserver kube-controller-manager sample-controller; do
    if pid="$(pid_of "$name")"; then
      printf '%-24s running  pid %s\n' "$name" "$pid"
    else
      printf '%-24s stopped\n' "$name"
      [[ "$name" == sample-controller || "$name" == kube-controller-manager ]] || rc=1
    fi
  done
  if [[ -f "$STATE_DIR/apiserver.env" ]]; then
    printf 'apiserver settings: %s\n' "$(tr '\n' ' ' <"$STATE_DIR/apiserver.env")"
  fi
  printf 'state: %s\n' "$STATE_DIR"
  return "$rc"
}

cmd="${1:-help}"
shift || true
case "$cmd" in
  status) status ;;
  restart-apiserver) require_state; restart_apiserver "$@" ;;
  compact) require_state; compact "$@" ;;
  stop-etcd)
    require_state
    if [[ "${1:-}" == --kill ]]; then
      pid="$(pid_of etcd)" || die "etcd is not running"
      kill -KILL "$pid"
      while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
      rm -f "$PID_DIR/etcd.pid"
    else
      stop_process etcd
    fi
    log "etcd stopped"
    ;;
  start-etcd) require_state; start_etcd ;;
  stop-sample-controller) stop_process sample-controller; log "sample-controller stopped" ;;
  start-sample-controller) require_state; start_sample_controller ;;
  stop-kube-controller-manager) stop_process kube-controller-manager; log "kube-controller-manager stopped" ;;
  start-kube-controller-manager) require_state; start_kube_controller_manager ;;
  ensure-baseline) require_state; ensure_baseline ;;
  revision) etcd_revision ;;
  logs)
    for f in kube-apiserver etcd kube-controller-manager sample-controller audit; do printf '%s\n' "$LOG_DIR/$f.log"; done
    ;;
  help | -h | --help) usage 0 ;;
  *) log "unknown command: $cmd"; usage 2 ;;
esac
