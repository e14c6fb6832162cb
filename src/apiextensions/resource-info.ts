// What an Established CustomResourceDefinition serves, in the terms the rest of the API
// server uses for any resource: one ResourceInfo per served version, built from the
// accepted names (status.acceptedNames, as upstream serves), the scope and the declared
// subresources.
import type {
  CustomResourceDefinition,
  CustomResourceDefinitionNames,
  CustomResourceDefinitionVersion,
} from '../api/generated/types/apiextensions-v1.js';
import type { ResourceInfo, SubresourceInfo } from '../api/registry-types.js';
import { compareKubeVersions } from './version-priority.js';

/** The verbs of every custom resource (upstream's CR REST storage implements them all). */
export const CUSTOM_RESOURCE_VERBS = [
  'create',
  'delete',
  'deletecollection',
  'get',
  'list',
  'patch',
  'update',
  'watch',
] as const;

/** The schema-table name of a custom kind: the group reversed, the version, the kind (as upstream's OpenAPI names it). */
export function customDefinitionName(group: string, version: string, kind: string): string {
  return `${group.split('.').reverse().join('.')}.${version}.${kind}`;
}

/** Names with upstream's defaults filled in (singular = lower-case kind, listKind = kind + List). */
export function defaultedNames(n: CustomResourceDefinitionNames): Required<CustomResourceDefinitionNames> {
  return {
    plural: n.plural,
    singular: n.singular !== undefined && n.singular !== '' ? n.singular : n.kind.toLowerCase(),
    kind: n.kind,
    listKind: n.listKind !== undefined && n.listKind !== '' ? n.listKind : `${n.kind}List`,
    shortNames: [...(n.shortNames ?? [])],
    categories: [...(n.categories ?? [])],
  };
}

/** The version marked `storage: true` (exactly one after validation). */
export function storageVersion(crd: CustomResourceDefinition): string {
  return (crd.spec.versions.find((v) => v.storage) ?? crd.spec.versions[0])?.name ?? '';
}

/** Served versions in upstream's version-priority order (the first is preferred). */
export function servedVersions(crd: CustomResourceDefinition): CustomResourceDefinitionVersion[] {
  return crd.spec.versions.filter((v) => v.served).sort((a, b) => compareKubeVersions(a.name, b.name));
}

/** The ResourceInfo of one version of a CRD, using its accepted names. */
export function resourceInfoFor(
  crd: CustomResourceDefinition,
  version: CustomResourceDefinitionVersion,
): ResourceInfo {
  const names = defaultedNames(crd.status?.acceptedNames ?? crd.spec.names);
  const group = crd.spec.group;
  const subresources: SubresourceInfo[] = [];
  if (version.subresources?.status !== undefined) {
    subresources.push({ name: 'status', kind: names.kind, verbs: ['get', 'patch', 'update'] });
  }
  if (version.subresources?.scale !== undefined) {
    subresources.push({
      name: 'scale',
      kind: 'Scale',
      group: 'autoscaling',
      version: 'v1',
      verbs: ['get', 'patch', 'update'],
    });
  }
  return {
    group,
    version: version.name,
    kind: names.kind,
    listKind: names.listKind,
    plural: names.plural,
    singular: names.singular,
    shortNames: names.shortNames,
    categories: names.categories,
    namespaced: crd.spec.scope === 'Namespaced',
    verbs: [...CUSTOM_RESOURCE_VERBS],
    subresources,
    definition: customDefinitionName(group, version.name, names.kind),
  };
}

/** The value of a condition type on a CRD ('True', 'False', 'Unknown' or undefined). */
export function crdCondition(crd: CustomResourceDefinition, type: string): string | undefined {
  return crd.status?.conditions?.find((c) => c.type === type)?.status;
}

/** True when the CRD serves its resource (upstream: Established is True). */
export function isEstablished(crd: CustomResourceDefinition): boolean {
  return crdCondition(crd, 'Established') === 'True';
}
