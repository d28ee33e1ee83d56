#!/usr/bin/env bash
# Starts the e2e control plane: etcd, kube-apiserver, kube-controller-manager and
# sample-controller on loopback, with
# state (certificates, kubeconfig, logs, PIDs) in ${KREPLAY_E2E_DIR:-<repo>/.e2e}.
# Builds the binaries first if they are not cached. Running it again while everything is up
# does nothing; if only part is up, the leftovers are stopped and everything starts fresh.
#
# Settings (environment; see e2e/README.md):
#   KREPLAY_E2E_DIR, KREPLAY_E2E_ETCD_PORT, KREPLAY_E2E_ETCD_PEER_PORT, KREPLAY_E2E_APISERVER_PORT
#   KREPLAY_E2E_AUDIT_WEBHOOK_URL          unset: no audit webhook (audit log only)
#   KREPLAY_E2E_WATCH_CACHE=true            KREPLAY_E2E_MIN_REQUEST_TIMEOUT=1800
#   KREPLAY_E2E_ETCD_COMPACTION_INTERVAL=5m0s
#   KREPLAY_E2E_SAMPLE_CONTROLLER=1         0: do not start sample-controller
#   KREPLAY_E2E_KUBE_CONTROLLER_MANAGER=1   0: do not start kube-controller-manager
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
source "$E2E_SCRIPTS_DIR/components.sh"

want_sample_controller() { [[ "${KREPLAY_E2E_SAMPLE_CONTROLLER:-1}" != 0 ]]; }
want_kube_controller_manager() { [[ "${KREPLAY_E2E_KUBE_CONTROLLER_MANAGER:-1}" != 0 ]]; }

all_up() {
  is_running etcd && is_running kube-apiserver && [[ -f "$KUBECONFIG_FILE" ]] \
    && { ! want_sample_controller || is_running sample-controller; } \
    && { ! want_kube_controller_manager || is_running kube-controller-manager; } \
    && api GET /readyz -o /dev/null 2>/dev/null
}

if all_up; then
  # Settings are fixed at the first `up`; changing them means down + up.
  log "already up (state: $STATE_DIR; settings: $(tr '\n' ' ' <"$BASELINE_FILE"))"
  log "'npm run e2e:down' first to start again with other settings"
  exit 0
fi
if is_running etcd || is_running kube-apiserver || is_running sample-controller || is_running kube-controller-manager; then
  log "partly up; stopping what is recorded and starting fresh"
  bash "$E2E_SCRIPTS_DIR/down.sh"
fi

start=$SECONDS
bash "$E2E_SCRIPTS_DIR/build.sh" >/dev/null

mkdir -p "$STATE_DIR" "$PID_DIR"
# A fresh cluster each time: old etcd data would carry namespaces from earlier runs (there is
# no namespace controller to finish deleting them). The previous run's logs are kept once.
rm -rf "$ETCD_DATA_DIR" "$LOG_DIR.prev"
[[ -d "$LOG_DIR" ]] && mv "$LOG_DIR" "$LOG_DIR.prev"
mkdir -p "$LOG_DIR"

rm -f "$BASELINE_FILE"
load_baseline
save_settings "$BASELINE_FILE"
ensure_pki
write_kubeconfig "$KUBECONFIG_FILE" kreplay-admin "$(admin_token)"

# If anything below fails, leave nothing half-started behind.
trap 'status=$?; if ((status != 0)); then log "up failed; stopping what was started"; bash "$E2E_SCRIPTS_DIR/down.sh" || true; fi' EXIT

start_etcd
start_apiserver
if want_kube_controller_manager; then
  start_kube_controller_manager
fi
if want_sample_controller; then
  start_sample_controller
fi

trap - EXIT
log "control plane up in $((SECONDS - start))s"
log "  kubeconfig: $KUBECONFIG_FILE   (export KUBECONFIG=$KUBECONFIG_FILE)"
log "  logs:       $LOG_DIR/{etcd,kube-apiserver,kube-controller-manager,sample-controller,audit}.log"
log "  faults:     bash e2e/scripts/ctl.sh help"
