import { z } from 'zod';
import { plainText } from './bounded-text.js';

/**
 * What the API server itself guarantees about the names it sends, so a record claiming otherwise was not sent by
 * Kubernetes and is refused at the boundary (recorder ingest, audit webhook, importers, SDK reports all parse through
 * these). The rules are apimachinery's, cited per schema; each is as loose as the loosest resource the API server
 * serves, never looser: a real recording must always validate.
 */

/** RFC 1123 label: `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, ≤ 63 (apimachinery pkg/util/validation IsDNS1123Label). */
const dns1123Label = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
/** RFC 1123 subdomain: dot-separated labels, ≤ 253 (IsDNS1123Subdomain). */
const dns1123Subdomain = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** RFC 1035 label: starts with a letter (IsDNS1035Label). */
const dns1035Label = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;

export const maxNamespaceLength = 63;
export const maxNameLength = 253;
export const maxGroupLength = 253;
export const maxLabelLength = 63;

function show(value: string): string {
  return JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value);
}

/** A namespace is a DNS-1123 label (pkg/apis/core/validation ValidateNamespaceName). */
export const NamespaceName = z.string().superRefine((value, ctx) => {
  if (value.length > maxNamespaceLength) ctx.addIssue({ code: 'custom', message: `a namespace is at most ${maxNamespaceLength} characters (got ${value.length})` });
  else if (!dns1123Label.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not a namespace: lower-case letters, digits and "-", starting and ending with a letter or digit` });
});

/**
 * An object name. Most resources take a DNS-1123 subdomain, but some take any path segment: RBAC roles and
 * bindings (`system:controller:deployment-controller`, pkg/apis/rbac/validation ValidateRBACName =
 * path.IsValidPathSegmentName), and what the API server accepts for any resource is bounded by the path segment rule
 * (apimachinery pkg/api/validation/path: never "." or "..", never containing "/" or "%"). Audit records name a
 * request on a collection `*` (importers/audit.ts collectionName), which that rule allows and no DNS name is.
 * Bounded at the subdomain's 253, with no control characters.
 */
export const ObjectName = z.string().superRefine((value, ctx) => {
  if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'a name cannot be empty' });
  else if (value.length > maxNameLength) ctx.addIssue({ code: 'custom', message: `a name is at most ${maxNameLength} characters (got ${value.length})` });
  else if (value === '.' || value === '..') ctx.addIssue({ code: 'custom', message: `a name may not be ${show(value)}` });
  else if (/[/%]/.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not a name: a name may not contain "/" or "%"` });
  else {
    const bad = plainText.firstBadCharacter(value, false);
    if (bad) ctx.addIssue({ code: 'custom', message: `a name may not contain ${bad}` });
  }
});

/**
 * An API group: '' for the core group, otherwise a DNS-1123 subdomain (apimachinery pkg/apis/meta/v1/validation;
 * CRD spec.group must be one, apiextensions validation).
 */
export const ApiGroup = z.string().superRefine((value, ctx) => {
  if (value === '') return;
  if (value.length > maxGroupLength) ctx.addIssue({ code: 'custom', message: `an API group is at most ${maxGroupLength} characters (got ${value.length})` });
  else if (!dns1123Subdomain.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not an API group: a DNS subdomain such as apps or example.com, or "" for the core group` });
});

/**
 * An API version: v1, v1beta2, v2alpha1 for built-in types; a CRD version is any DNS-1035 label
 * (apiextensions-apiserver pkg/apis/apiextensions/validation: spec.versions[*].name), which includes those.
 */
export const ApiVersionName = z.string().superRefine((value, ctx) => {
  if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'a version cannot be empty' });
  else if (value.length > maxLabelLength) ctx.addIssue({ code: 'custom', message: `a version is at most ${maxLabelLength} characters (got ${value.length})` });
  else if (!dns1035Label.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not an API version such as v1, v1beta2 or v2alpha1` });
});

/**
 * A resource (the plural, lower-case: deployments): a CRD's spec.names.plural is a DNS-1035 label
 * (apiextensions validation ValidateCustomResourceDefinitionNames); built-in resources are lower-case words.
 */
export const ResourceName = z.string().superRefine((value, ctx) => {
  if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'a resource cannot be empty' });
  else if (value.length > maxLabelLength) ctx.addIssue({ code: 'custom', message: `a resource is at most ${maxLabelLength} characters (got ${value.length})` });
  else if (!dns1035Label.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not a resource: the plural, lower-case (deployments)` });
});

/**
 * A kind (Deployment): a CRD's spec.names.kind must lower-case to a DNS-1035 label (apiextensions validation), and
 * built-in kinds are CamelCase identifiers; both fit this.
 */
export const KindName = z.string().superRefine((value, ctx) => {
  if (value.length === 0) ctx.addIssue({ code: 'custom', message: 'a kind cannot be empty' });
  else if (value.length > maxLabelLength) ctx.addIssue({ code: 'custom', message: `a kind is at most ${maxLabelLength} characters (got ${value.length})` });
  else if (!dns1035Label.test(value.toLowerCase())) ctx.addIssue({ code: 'custom', message: `${show(value)} is not a kind: a CamelCase identifier (Deployment)` });
});

/** A subresource (status, scale, finalize, eviction, binding): a lower-case path segment. */
export const SubresourceName = z.string().superRefine((value, ctx) => {
  if (value.length > maxLabelLength) ctx.addIssue({ code: 'custom', message: `a subresource is at most ${maxLabelLength} characters (got ${value.length})` });
  else if (!/^[a-z][-a-z0-9]*$/.test(value)) ctx.addIssue({ code: 'custom', message: `${show(value)} is not a subresource such as status or scale` });
});
