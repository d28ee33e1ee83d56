# shellcheck shell=bash
# How each component is configured and started. Sourced by up.sh and ctl.sh (after lib.sh).

# --- API server settings -----------------------------------------------------------------
# The baseline is fixed by `up` from the environment and saved in <state>/baseline.env;
# `ctl.sh restart-apiserver --flag=value` overrides it for one run of the API server, and a
# plain `ctl.sh restart-apiserver` goes back to it.

load_baseline() {
  AUDIT_WEBHOOK_URL="${KREPLAY_E2E_AUDIT_WEBHOOK_URL:-}"
  WATCH_CACHE="${KREPLAY_E2E_WATCH_CACHE:-true}"
  MIN_REQUEST_TIMEOUT="${KREPLAY_E2E_MIN_REQUEST_TIMEOUT:-1800}"
  ETCD_COMPACTION_INTERVAL="${KREPLAY_E2E_ETCD_COMPACTION_INTERVAL:-5m0s}"
  if [[ -f "$BASELINE_FILE" ]]; then
    # shellcheck source=/dev/null
    source "$BASELINE_FILE"
  fi
}

save_settings() {
  local file="$1"
  {
    printf 'AUDIT_WEBHOOK_URL=%q\n' "$AUDIT_WEBHOOK_URL"
    printf 'WATCH_CACHE=%q\n' "$WATCH_CACHE"
    printf 'MIN_REQUEST_TIMEOUT=%q\n' "$MIN_REQUEST_TIMEOUT"
    printf 'ETCD_COMPACTION_INTERVAL=%q\n' "$ETCD_COMPACTION_INTERVAL"
  } >"$file"
}

# --- PKI and config files ----------------------------------------------------------------
# Generated once per state dir and kept across up/down, so a kubeconfig someone copied
# stays valid. `down --purge` removes them.

ensure_pki() {
  mkdir -p "$PKI_DIR"
  chmod 700 "$PKI_DIR"
  local p="$PKI_DIR"
  if [[ ! -f "$p/ca.crt" ]]; then
    log "generating CA, serving certificate and service-account key in $p"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -sha256 \
      -keyout "$p/ca.key" -out "$p/ca.crt" -subj "/CN=kreplay-e2e-ca" 2>/dev/null
  fi
  if [[ ! -f "$p/apiserver.crt" ]]; then
    openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$p/apiserver.key" -out "$p/apiserver.csr" \
      -subj "/CN=kube-apiserver" 2>/dev/null
    printf '%s\n' \
      'subjectAltName=IP:127.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,IP:10.0.0.1' \
      'keyUsage=critical,digitalSignature,keyEncipherment' \
      'extendedKeyUsage=serverAuth' >"$p/apiserver.ext"
    openssl x509 -req -in "$p/apiserver.csr" -CA "$p/ca.crt" -CAkey "$p/ca.key" -CAcreateserial \
      -days 3650 -sha256 -extfile "$p/apiserver.ext" -out "$p/apiserver.crt" 2>/dev/null
    rm -f "$p/apiserver.csr" "$p/apiserver.ext"
  fi
  if [[ ! -f "$p/sa.key" ]]; then
    openssl genrsa -out "$p/sa.key" 2048 2>/dev/null
    openssl rsa -in "$p/sa.key" -pubout -out "$p/sa.pub" 2>/dev/null
  fi
  if [[ ! -f "$p/tokens.csv" ]]; then
    # token,user,uid,"groups". sample-controller gets its own user so the audit log and
    # managedFields tell its writes apart from the tests'.
    openssl rand -hex 24 >"$p/admin.token"
    openssl rand -hex 24 >"$p/sample-controller.token"
    printf '%s,kreplay-admin,kreplay-admin,"system:masters"\n' "$(cat "$p/admin.token")" >"$p/tokens.csv"
    printf '%s,sample-controller,sample-controller,"system:masters"\n' \
      "$(cat "$p/sample-controller.token")" >>"$p/tokens.csv"
  fi
  if [[ ! -f "$p/kube-controller-manager.token" ]]; then
    # Added later than the other two: a state dir made before has tokens.csv without it.
    # The user name is the one Kubernetes' own RBAC and kreplay's actor rules know; the
    # group gives it every right (--use-service-account-credentials=false runs all
    # controllers under this one identity, which the bootstrap ClusterRole does not cover).
    openssl rand -hex 24 >"$p/kube-controller-manager.token"
    printf '%s,system:kube-controller-manager,system:kube-controller-manager,"system:masters"\n' \
      "$(cat "$p/kube-controller-manager.token")" >>"$p/tokens.csv"
  fi
  chmod 600 "$p"/*.key "$p"/*.token "$p/tokens.csv"
}

write_kubeconfig() {
  local file="$1" user="$2" token="$3"
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: kreplay-e2e
  cluster:
    server: $APISERVER_URL
    certificate-authority: $PKI_DIR/ca.crt
users:
- name: $user
  user:
    token: $token
contexts:
- name: kreplay-e2e
  context:
    cluster: kreplay-e2e
    user: $user
current-context: kreplay-e2e
EOF
  chmod 600 "$file"
}

# Writes (RequestResponse) carry the object with its new resourceVersion in responseObject;
# reads are logged at Metadata so a recorder can see who watched what; health probes are
# noise. Reference: apiserver pkg/apis/audit/v1/types.go (Policy, PolicyRule).
write_audit_policy() {
  cat >"$STATE_DIR/audit-policy.yaml" <<'EOF'
apiVersion: audit.k8s.io/v1
kind: Policy
omitManagedFields: true
rules:
- level: None
  nonResourceURLs: ["/healthz*", "/readyz*", "/livez*", "/version", "/metrics"]
- level: None
  resources:
  - group: coordination.k8s.io
    resources: ["leases"]
  verbs: ["get", "update"]
- level: RequestResponse
  verbs: ["create", "update", "patch", "delete", "deletecollection"]
- level: Metadata
EOF
}

write_audit_webhook_config() {
  local file="$STATE_DIR/audit-webhook.kubeconfig" insecure=""
  [[ "$AUDIT_WEBHOOK_URL" == https://* ]] && insecure=$'\n    insecure-skip-tls-verify: true'
  cat >"$file" <<EOF
apiVersion: v1
kind: Config
clusters:
- name: audit-sink
  cluster:
    server: $AUDIT_WEBHOOK_URL$insecure
contexts:
- name: audit-sink
  context:
    cluster: audit-sink
current-context: audit-sink
EOF
  printf '%s' "$file"
}

# --- etcd ----------------------------------------------------------------------------------

start_etcd() {
  is_running etcd && { log "etcd already running ($(pid_of etcd))"; return 0; }
  port_in_use "$ETCD_PORT" && die "port $ETCD_PORT (etcd client) is in use; set KREPLAY_E2E_ETCD_PORT"
  port_in_use "$ETCD_PEER_PORT" && die "port $ETCD_PEER_PORT (etcd peer) is in use; set KREPLAY_E2E_ETCD_PEER_PORT"
  mkdir -p "$ETCD_DATA_DIR"
  chmod 700 "$ETCD_DATA_DIR"
  # No TLS on loopback: only the API server and ctl.sh (compaction through the v3 JSON
  # gateway) talk to it. --unsafe-no-fsync: the data is thrown away after the run.
  start_process etcd \
    --name kreplay-e2e \
    --data-dir "$ETCD_DATA_DIR" \
    --listen-client-urls "$ETCD_URL" \
    --advertise-client-urls "$ETCD_URL" \
    --listen-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-advertise-peer-urls "http://127.0.0.1:$ETCD_PEER_PORT" \
    --initial-cluster "kreplay-e2e=http://127.0.0.1:$ETCD_PEER_PORT" \
    --unsafe-no-fsync \
    --log-level warn
  wait_for_etcd 30
  log "etcd ready on $ETCD_URL (pid $(pid_of etcd))"
}

# etcd_put KEY VALUE: a write through the v3 JSON gateway; prints the new revision.
etcd_put() {
  local body
  body="$(curl -sS --fail --max-time 5 -X POST "$ETCD_URL/v3/kv/put" \
    -d "{\"key\":\"$(printf '%s' "$1" | base64 -w0)\",\"value\":\"$(printf '%s' "$2" | base64 -w0)\"}")" \
    || die "etcd gateway not reachable at $ETCD_URL"
  sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p' <<<"$body"
}

# Current etcd revision = the newest resourceVersion anywhere in the cluster.
etcd_revision() {
  local body
  body="$(curl -sS --fail --max-time 5 -X POST "$ETCD_URL/v3/kv/range" -d '{"key":"AA==","limit":1}')" \
    || die "etcd gateway not reachable at $ETCD_URL"
  sed -n 's/.*"revision":"\([0-9]*\)".*/\1/p' <<<"$body"
}

# --- kube-apiserver ------------------------------------------------------------------------

start_apiserver() {
  is_running kube-apiserver && { log "kube-apiserver already running ($(pid_of kube-apiserver))"; return 0; }
  port_in_use "$APISERVER_PORT" && die "port $APISERVER_PORT (API server) is in use; set KREPLAY_E2E_APISERVER_PORT"
  write_audit_policy
  local args=(
    --etcd-servers="$ETCD_URL"
    --bind-address=127.0.0.1
    --advertise-address=127.0.0.1
    --secure-port="$APISERVER_PORT"
    --tls-cert-file="$PKI_DIR/apiserver.crt"
    --tls-private-key-file="$PKI_DIR/apiserver.key"
    --client-ca-file="$PKI_DIR/ca.crt"
    --token-auth-file="$PKI_DIR/tokens.csv"
    --authorization-mode=RBAC
    --service-cluster-ip-range=10.0.0.0/24
    --service-account-issuer=https://kubernetes.default.svc.cluster.local
    --service-account-key-file="$PKI_DIR/sa.pub"
    --service-account-signing-key-file="$PKI_DIR/sa.key"
    --endpoint-reconciler-type=none
    --profiling=false
    # Without it, SIGTERM leaves open watches running and http.Server.Shutdown waits for
    # them up to --request-timeout (60 s) before the process exits; with it, every watch
    # ends as soon as the server stops accepting requests (apiserver pkg/server/config.go
    # WithWatchTerminationDuringShutdown), as on a real control plane's rolling restart.
    --shutdown-watch-termination-grace-period=2s
    --audit-policy-file="$STATE_DIR/audit-policy.yaml"
    --audit-log-path="$LOG_DIR/audit.log"
    --audit-log-mode=blocking
    --watch-cache="$WATCH_CACHE"
    --min-request-timeout="$MIN_REQUEST_TIMEOUT"
    --etcd-compaction-interval="$ETCD_COMPACTION_INTERVAL"
  )
  if [[ -n "$AUDIT_WEBHOOK_URL" ]]; then
    # blocking: the event reaches the sink before the response reaches the client, so a
    # test can assert on it without waiting out a batch. A sink that is down is retried 5
    # times per event (apiserver pkg/util/webhook DefaultRetryBackoff); a short initial
    # backoff keeps that at ~2 s instead of ~80 s.
    args+=(
      --audit-webhook-config-file="$(write_audit_webhook_config)"
      --audit-webhook-mode=blocking
      --audit-webhook-initial-backoff=200ms
    )
  fi
  save_settings "$STATE_DIR/apiserver.env"
  start_process kube-apiserver "${args[@]}"
  wait_for_apiserver 120
  log "kube-apiserver ready on $APISERVER_URL (pid $(pid_of kube-apiserver);" \
    "watch-cache=$WATCH_CACHE min-request-timeout=$MIN_REQUEST_TIMEOUT" \
    "audit-webhook=${AUDIT_WEBHOOK_URL:-none})"
}

# --- sample-controller ---------------------------------------------------------------------

ensure_foo_crd() {
  api POST /apis/apiextensions.k8s.io/v1/customresourcedefinitions \
    -H 'Content-Type: application/yaml' --data-binary "@$BIN_LINK/foo-crd.yaml" -o /dev/null 2>/dev/null || true
  local deadline=$((SECONDS + 30))
  until api GET /apis/apiextensions.k8s.io/v1/customresourcedefinitions/foos.samplecontroller.k8s.io 2>/dev/null \
    | tr -d ' \n' | grep -q '"type":"Established","status":"True"'; do
    ((SECONDS < deadline)) || die "Foo CRD not Established in time"
    sleep 0.3
  done
}

start_sample_controller() {
  is_running sample-controller && { log "sample-controller already running ($(pid_of sample-controller))"; return 0; }
  ensure_foo_crd
  write_kubeconfig "$STATE_DIR/sample-controller.kubeconfig" sample-controller "$(cat "$PKI_DIR/sample-controller.token")"
  start_process sample-controller -kubeconfig "$STATE_DIR/sample-controller.kubeconfig" -v=2
  log "sample-controller running (pid $(pid_of sample-controller))"
}

# --- kube-controller-manager -----------------------------------------------------------------
# The real one, for the garbage collector (ownerReferences), Deployments → ReplicaSets → Pods,
# the namespace controller (deleted namespaces go away), ServiceAccounts and the
# kube-root-ca.crt ConfigMap in every namespace: background traffic a recording must stay
# silent about. No scheduler or kubelet: Pods stay Pending.

start_kube_controller_manager() {
  is_running kube-controller-manager && { log "kube-controller-manager already running ($(pid_of kube-controller-manager))"; return 0; }
  write_kubeconfig "$STATE_DIR/kube-controller-manager.kubeconfig" system:kube-controller-manager \
    "$(cat "$PKI_DIR/kube-controller-manager.token")"
  # --secure-port=0: no HTTPS endpoint (healthz, metrics), so no port to collide with
  # another checkout's. --leader-elect=false: one instance, and no Lease renewals every 2 s.
  start_process kube-controller-manager \
    --kubeconfig="$STATE_DIR/kube-controller-manager.kubeconfig" \
    --secure-port=0 \
    --leader-elect=false \
    --use-service-account-credentials=false \
    --service-account-private-key-file="$PKI_DIR/sa.key" \
    --root-ca-file="$PKI_DIR/ca.crt" \
    --cluster-signing-cert-file="$PKI_DIR/ca.crt" \
    --cluster-signing-key-file="$PKI_DIR/ca.key" \
    --service-cluster-ip-range=10.0.0.0/24 \
    -v=1
  log "kube-controller-manager running (pid $(pid_of kube-controller-manager))"
}
