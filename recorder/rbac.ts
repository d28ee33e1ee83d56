import { isClusterScoped, type RecorderConfig } from './config.js';

/**
 * The least privilege the recorder needs: get, list and watch on the configured resources, nothing else.
 * A ClusterRole (with a ClusterRoleBinding) for what is watched cluster-wide or is cluster-scoped; a Role and
 * RoleBinding in each namespace otherwise. Discovery (/api, /apis) is already open to every authenticated user
 * through the built-in system:discovery ClusterRole, and the audit webhook is a call *to* the recorder: neither
 * needs a rule. Pure: `kreplay rbac` prints the result.
 */

export interface PolicyRule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
}

export interface RbacObject {
  apiVersion: 'rbac.authorization.k8s.io/v1';
  kind: 'Role' | 'ClusterRole' | 'RoleBinding' | 'ClusterRoleBinding';
  metadata: { name: string; namespace?: string; labels: Record<string, string> };
  rules?: PolicyRule[];
  roleRef?: { apiGroup: 'rbac.authorization.k8s.io'; kind: 'Role' | 'ClusterRole'; name: string };
  subjects?: { kind: 'ServiceAccount'; name: string; namespace: string }[];
}

const verbs = ['get', 'list', 'watch'];

function rulesFor(resources: readonly { group: string; resource: string }[]): PolicyRule[] {
  const byGroup = new Map<string, Set<string>>();
  for (const r of resources) {
    const set = byGroup.get(r.group) ?? new Set<string>();
    set.add(r.resource);
    byGroup.set(r.group, set);
  }
  return [...byGroup.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([group, names]) => ({ apiGroups: [group], resources: [...names].sort(), verbs: [...verbs] }));
}

export function rbacFor(config: Pick<RecorderConfig, 'resources'>, serviceAccount: { namespace: string; name: string }, name = 'kreplay-recorder'): RbacObject[] {
  const labels = { 'app.kubernetes.io/name': 'kreplay-recorder', 'app.kubernetes.io/managed-by': 'kreplay' };
  const subjects = [{ kind: 'ServiceAccount' as const, name: serviceAccount.name, namespace: serviceAccount.namespace }];
  const clusterWide: { group: string; resource: string }[] = [];
  const perNamespace = new Map<string, { group: string; resource: string }[]>();
  for (const resource of config.resources) {
    if (resource.namespaces === null || isClusterScoped(resource)) clusterWide.push(resource);
    else for (const namespace of resource.namespaces) perNamespace.set(namespace, [...(perNamespace.get(namespace) ?? []), resource]);
  }
  const objects: RbacObject[] = [];
  if (clusterWide.length) {
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name, labels }, rules: rulesFor(clusterWide) });
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
      subjects,
    });
  }
  for (const [namespace, resources] of [...perNamespace.entries()].sort(([a], [b]) => a.localeCompare(b))) {
    objects.push({ apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name, namespace, labels }, rules: rulesFor(resources) });
    objects.push({
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'RoleBinding',
      metadata: { name, namespace, labels },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
      subjects,
    });
  }
  return objects;
}
