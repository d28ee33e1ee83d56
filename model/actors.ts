/**
 * Who is who among the writers of a session: Kubernetes' own components, people's tools, and everyone else (the
 * controllers). A writer is named by a managedFields manager on watch streams and by the audit user on the audit
 * path; both spellings of each component are known here.
 */

/** managedFields managers of the control plane's own binaries (each sets its manager to the binary name). */
const systemManagers: ReadonlySet<string> = new Set([
  'kube-controller-manager',
  'kube-scheduler',
  'kubelet',
  'kube-apiserver',
  'kube-proxy',
  'cloud-controller-manager',
  'kube-aggregator',
]);

/** Audit users of the control plane: apiserver pkg/authentication/user and the components' kubeconfigs. */
const systemUsers: ReadonlySet<string> = new Set([
  'system:kube-controller-manager',
  'system:kube-scheduler',
  'system:apiserver',
  'system:kube-proxy',
  'system:cloud-controller-manager',
]);

/**
 * The Kubernetes component behind a writer, or null when it is not one: kube-controller-manager runs each
 * controller as a service account in kube-system when --use-service-account-credentials is set, and kubelets
 * authenticate as system:node:<name>.
 */
export function systemComponentOf(actor: string | null | undefined): string | null {
  if (!actor) return null;
  if (systemManagers.has(actor)) return actor;
  if (systemUsers.has(actor)) return actor.slice('system:'.length);
  if (actor.startsWith('system:node:')) return 'kubelet';
  if (actor.startsWith('system:serviceaccount:kube-system:')) return `kube-controller-manager (${actor.slice('system:serviceaccount:kube-system:'.length)})`;
  return null;
}

export function isSystemActor(actor: string | null | undefined): boolean {
  return systemComponentOf(actor) !== null;
}

/**
 * Writers that are people's tools, not controllers: kubectl's managers (kubectl-client-side-apply, kubectl-edit,
 * kubectl-patch, ...), helm and kustomize, and the placeholder server-side apply writes for fields set before
 * managedFields existed.
 */
export function isToolActor(actor: string | null | undefined): boolean {
  if (!actor) return false;
  return actor === 'kubectl' || actor.startsWith('kubectl-') || actor === 'helm' || actor === 'kustomize' || actor === 'before-first-apply';
}

/**
 * A request sent by a person's tool, judged by its User-Agent: kubectl (`kubectl/v1.36.3 (linux/amd64) ...`) and
 * helm, whose agent was client-go's default `helm/v0.0.0 ...` until Helm 3.14 named itself `Helm/3.14.0`.
 */
export function isToolUserAgent(userAgent: string | null | undefined): boolean {
  return !!userAgent && /^(kubectl|helm)[/-]/i.test(userAgent);
}

/** A finalizer that Kubernetes itself handles, and what it waits for before it is removed. */
export interface SystemFinalizer {
  readonly owner: string;
  readonly waitsFor: string;
}

const knownSystemFinalizers: Readonly<Record<string, SystemFinalizer>> = {
  // pkg/controller/volume/pvcprotection: removed once no Pod uses the claim.
  'kubernetes.io/pvc-protection': { owner: 'kube-controller-manager (pvc-protection controller)', waitsFor: 'no Pod using the claim any more' },
  // pkg/controller/volume/pvprotection: removed once the volume is no longer bound to a claim.
  'kubernetes.io/pv-protection': { owner: 'kube-controller-manager (pv-protection controller)', waitsFor: 'the volume no longer bound to a claim' },
  // pkg/controller/garbagecollector: foreground deletion waits for blocking dependents, orphan detaches them.
  foregroundDeletion: { owner: 'kube-controller-manager (garbage collector)', waitsFor: 'dependents with blockOwnerDeletion to be deleted first' },
  orphan: { owner: 'kube-controller-manager (garbage collector)', waitsFor: 'ownerReferences to be removed from its dependents' },
  // A Namespace's finalizer: pkg/controller/namespace deletes everything in it first.
  kubernetes: { owner: 'kube-controller-manager (namespace controller)', waitsFor: 'every object in the namespace to be deleted' },
};

/**
 * The built-in finalizers, and every finalizer in a Kubernetes-reserved domain (kubernetes.io, k8s.io and their
 * subdomains: CSI sidecars, the Job and Service controllers): not the controller under debug's to remove. A domain
 * is only a guess: when managedFields say who added the finalizer (`owners`) and none of them is a Kubernetes
 * component, it is theirs (k8s.io/sample-controller's `samplecontroller.k8s.io/...` is a controller's own). The
 * built-in names stay Kubernetes' whoever's request carried them (pvc-protection is added by an admission plugin
 * during the creator's request, so managedFields name the creator).
 */
export function systemFinalizerOf(finalizer: string, owners: readonly string[] = []): SystemFinalizer | null {
  const known = knownSystemFinalizers[finalizer];
  if (known) return known;
  const slash = finalizer.indexOf('/');
  const domain = slash > 0 ? finalizer.slice(0, slash) : '';
  if (domain === 'kubernetes.io' || domain.endsWith('.kubernetes.io') || domain === 'k8s.io' || domain.endsWith('.k8s.io')) {
    if (owners.length > 0 && !owners.some((owner) => isSystemActor(owner))) return null;
    return { owner: `a Kubernetes component (${domain})`, waitsFor: 'the condition its component waits for' };
  }
  return null;
}

/**
 * Two names of one writer: a service account user (`system:serviceaccount:ns:name`) and a bare name (a field
 * manager, a recorder's display name) are the same writer when the name is the account's.
 */
export function sameActor(a: string, b: string): boolean {
  if (a === b) return true;
  const bare = (name: string) => (name.startsWith('system:serviceaccount:') ? name.slice(name.lastIndexOf(':') + 1) : null);
  return bare(a) === b || bare(b) === a;
}
