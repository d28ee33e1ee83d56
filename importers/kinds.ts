/**
 * Kind <-> resource guesses for sources that carry only one of them. Only the API server's discovery knows the
 * real mapping (a CRD declares its own plural); a kubectl dump has kinds but no resources, and a Metadata-level
 * audit log has resources but no kinds. These guesses are right for every built-in type and for CRDs whose
 * plural follows the English rules kubebuilder applies; the importers document them as guesses.
 */

/** Kinds whose plural the rules below get wrong, or that are not pluralised at all. */
const irregularPlurals: Readonly<Record<string, string>> = {
  endpoints: 'endpoints', // core/v1 Endpoints is already plural (apimachinery meta.UnsafeGuessKindToResource)
  componentstatus: 'componentstatuses',
};

/**
 * The plural resource name of a kind, as `kubectl` would guess it (apimachinery `pkg/api/meta/restmapper.go`
 * `UnsafeGuessKindToResource`), with one fix: a vowel before a final `y` keeps the `y` (`Gateway` -> `gateways`,
 * where upstream's rule would say `gatewaies`).
 */
export function guessResource(kind: string): string {
  const singular = kind.toLowerCase();
  const irregular = irregularPlurals[singular];
  if (irregular) return irregular;
  if (/(s|x|z|ch|sh)$/.test(singular)) return `${singular}es`; // Ingress -> ingresses, StorageClass -> storageclasses
  if (/[^aeiou]y$/.test(singular)) return `${singular.slice(0, -1)}ies`; // NetworkPolicy -> networkpolicies
  return `${singular}s`;
}

/** Kinds of the built-in resources (and a few ubiquitous add-ons), keyed by `group/resource` ('' = core). */
const builtinKinds: Readonly<Record<string, string>> = {
  '/pods': 'Pod',
  '/services': 'Service',
  '/endpoints': 'Endpoints',
  '/configmaps': 'ConfigMap',
  '/secrets': 'Secret',
  '/namespaces': 'Namespace',
  '/nodes': 'Node',
  '/persistentvolumes': 'PersistentVolume',
  '/persistentvolumeclaims': 'PersistentVolumeClaim',
  '/serviceaccounts': 'ServiceAccount',
  '/events': 'Event',
  '/limitranges': 'LimitRange',
  '/resourcequotas': 'ResourceQuota',
  '/replicationcontrollers': 'ReplicationController',
  '/podtemplates': 'PodTemplate',
  '/componentstatuses': 'ComponentStatus',
  '/bindings': 'Binding',
  'apps/deployments': 'Deployment',
  'apps/replicasets': 'ReplicaSet',
  'apps/statefulsets': 'StatefulSet',
  'apps/daemonsets': 'DaemonSet',
  'apps/controllerrevisions': 'ControllerRevision',
  'batch/jobs': 'Job',
  'batch/cronjobs': 'CronJob',
  'autoscaling/horizontalpodautoscalers': 'HorizontalPodAutoscaler',
  'policy/poddisruptionbudgets': 'PodDisruptionBudget',
  'policy/evictions': 'Eviction',
  'networking.k8s.io/ingresses': 'Ingress',
  'networking.k8s.io/ingressclasses': 'IngressClass',
  'networking.k8s.io/networkpolicies': 'NetworkPolicy',
  'discovery.k8s.io/endpointslices': 'EndpointSlice',
  'coordination.k8s.io/leases': 'Lease',
  'events.k8s.io/events': 'Event',
  'rbac.authorization.k8s.io/roles': 'Role',
  'rbac.authorization.k8s.io/rolebindings': 'RoleBinding',
  'rbac.authorization.k8s.io/clusterroles': 'ClusterRole',
  'rbac.authorization.k8s.io/clusterrolebindings': 'ClusterRoleBinding',
  'storage.k8s.io/storageclasses': 'StorageClass',
  'storage.k8s.io/volumeattachments': 'VolumeAttachment',
  'storage.k8s.io/csidrivers': 'CSIDriver',
  'storage.k8s.io/csinodes': 'CSINode',
  'scheduling.k8s.io/priorityclasses': 'PriorityClass',
  'node.k8s.io/runtimeclasses': 'RuntimeClass',
  'apiextensions.k8s.io/customresourcedefinitions': 'CustomResourceDefinition',
  'apiregistration.k8s.io/apiservices': 'APIService',
  'admissionregistration.k8s.io/mutatingwebhookconfigurations': 'MutatingWebhookConfiguration',
  'admissionregistration.k8s.io/validatingwebhookconfigurations': 'ValidatingWebhookConfiguration',
  'admissionregistration.k8s.io/validatingadmissionpolicies': 'ValidatingAdmissionPolicy',
  'admissionregistration.k8s.io/validatingadmissionpolicybindings': 'ValidatingAdmissionPolicyBinding',
  'certificates.k8s.io/certificatesigningrequests': 'CertificateSigningRequest',
  'authentication.k8s.io/tokenreviews': 'TokenReview',
  'authorization.k8s.io/subjectaccessreviews': 'SubjectAccessReview',
  'authorization.k8s.io/selfsubjectaccessreviews': 'SelfSubjectAccessReview',
  'authorization.k8s.io/localsubjectaccessreviews': 'LocalSubjectAccessReview',
  'flowcontrol.apiserver.k8s.io/flowschemas': 'FlowSchema',
  'flowcontrol.apiserver.k8s.io/prioritylevelconfigurations': 'PriorityLevelConfiguration',
  'gateway.networking.k8s.io/gateways': 'Gateway',
  'gateway.networking.k8s.io/gatewayclasses': 'GatewayClass',
  'gateway.networking.k8s.io/httproutes': 'HTTPRoute',
  'gateway.networking.k8s.io/grpcroutes': 'GRPCRoute',
  'metrics.k8s.io/pods': 'PodMetrics',
  'metrics.k8s.io/nodes': 'NodeMetrics',
};

/** The kind of a built-in resource, or undefined. */
export function builtinKind(group: string, resource: string): string | undefined {
  return builtinKinds[`${group}/${resource}`];
}

/**
 * A kind for a resource nobody told us about: the singular, capitalised (`foos` -> `Foo`, `policies` -> `Policy`).
 * It cannot restore inner capitals (`fooconfigs` -> `Fooconfig`, not `FooConfig`): the audit importer prefers
 * kinds learned from objects in the same log, then the built-in table, and uses this last.
 */
export function guessKind(resource: string): string {
  let singular = resource;
  if (/ies$/.test(resource)) singular = `${resource.slice(0, -3)}y`;
  else if (/(ss|us|x|z|ch|sh)es$/.test(resource)) singular = resource.slice(0, -2); // classes, statuses, boxes
  else if (/s$/.test(resource) && !/ss$/.test(resource)) singular = resource.slice(0, -1);
  return singular.charAt(0).toUpperCase() + singular.slice(1);
}
