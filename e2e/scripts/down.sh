#!/usr/bin/env bash
# Stops the processes that up.sh / ctl.sh recorded in <state>/pids, and nothing else.
# Logs, certificates and the kubeconfig stay for inspection; --purge removes the state dir.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

purge=0
for arg in "$@"; do
  case "$arg" in
    --purge) purge=1 ;;
    *) die "usage: down.sh [--purge]" ;;
  esac
done

stopped=()
# Clients first, so the API server does not log a storm of broken watches, and etcd last.
for name in sample-controller kube-controller-manager kube-apiserver etcd; do
  if is_running "$name"; then
    timeout=20
    # Without etcd the API server's shutdown hooks (lease cleanup) only time out: don't wait.
    [[ "$name" == kube-apiserver ]] && ! is_running etcd && timeout=3
    stop_process "$name" "$timeout"
    stopped+=("$name")
  else
    rm -f "$PID_DIR/$name.pid"
  fi
done

if ((${#stopped[@]})); then
  log "stopped: ${stopped[*]}"
else
  log "nothing recorded as running in $STATE_DIR"
fi

if ((purge)) && [[ -d "$STATE_DIR" ]]; then
  # Only a directory that up.sh made: it has a pids/ dir or a kubeconfig.
  if [[ -d "$PID_DIR" || -f "$KUBECONFIG_FILE" ]]; then
    rm -rf "$STATE_DIR"
    log "removed $STATE_DIR"
  else
    die "$STATE_DIR does not look like an e2e state dir; not removing it"
  fi
fi
