// Which resources kts serves. The registry holds every version the upstream OpenAPI
// document knows (alpha and beta included); like a default upstream 1.32 cluster, kts serves
// GA versions only, and one version per resource so that no conversion between versions is
// needed (HPA is served at autoscaling/v2, its preferred version). Discovery, OpenAPI,
// routing and storage all read this one list.
import { allGroups, resourcesIn } from '../api/registry.js';
import type { GroupInfo, ResourceInfo } from '../api/registry-types.js';

// resource.k8s.io (DRA) was not GA in 1.32.
const EXCLUDED_GROUPS = new Set(['resource.k8s.io']);

// GA versions the OpenAPI document has that 1.32 did not serve (GA later: ServiceCIDR and
// IPAddress in 1.33, VolumeAttributesClass in 1.34, MutatingAdmissionPolicy after that).
// kubectl api-resources, discovery and the namespace and garbage collectors all see this list.
const EXCLUDED_RESOURCES = new Set([
  'admissionregistration.k8s.io/v1/mutatingadmissionpolicies',
  'admissionregistration.k8s.io/v1/mutatingadmissionpolicybindings',
  'networking.k8s.io/v1/ipaddresses',
  'networking.k8s.io/v1/servicecidrs',
  'storage.k8s.io/v1/volumeattributesclasses',
]);

function isGA(version: string): boolean {
  return /^v\d+$/.test(version);
}

interface Served {
  groups: GroupInfo[];
  resources: ResourceInfo[];
  byGVR: Map<string, ResourceInfo>;
}

let served: Served | undefined;

function build(): Served {
  const groups: GroupInfo[] = [];
  const resources: ResourceInfo[] = [];
  const seen = new Set<string>();
  for (const g of allGroups()) {
    if (EXCLUDED_GROUPS.has(g.name)) continue;
    const versions: string[] = [];
    // Preferred version first, so a resource served at several GA versions is taken there.
    const ordered = [g.preferredVersion, ...g.versions.filter((v) => v !== g.preferredVersion)].filter(isGA);
    for (const v of ordered) {
      const rs = resourcesIn(g.name, v).filter(
        (r) => !seen.has(`${g.name}/${r.plural}`) && !EXCLUDED_RESOURCES.has(`${g.name}/${v}/${r.plural}`),
      );
      if (rs.length === 0) continue;
      for (const r of rs) {
        seen.add(`${g.name}/${r.plural}`);
        resources.push(r);
      }
      versions.push(v);
    }
    if (versions.length === 0) continue;
    groups.push({ name: g.name, versions, preferredVersion: versions[0]! });
  }
  const byGVR = new Map(resources.map((r) => [`${r.group}/${r.version}/${r.plural}`, r]));
  return { groups, resources, byGVR };
}

function get(): Served {
  if (!served) served = build();
  return served;
}

/** Served API groups in discovery order, each with its served versions (preferred first). */
export function servedGroups(): readonly GroupInfo[] {
  return get().groups;
}

/** Every served resource. */
export function servedResources(): readonly ResourceInfo[] {
  return get().resources;
}

/** The served resource at group/version/plural, if any. */
export function servedResource(group: string, version: string, plural: string): ResourceInfo | undefined {
  return get().byGVR.get(`${group}/${version}/${plural}`);
}

/** Served resources of one group/version, in registry order. */
export function servedResourcesIn(group: string, version: string): ResourceInfo[] {
  return get().resources.filter((r) => r.group === group && r.version === version);
}
