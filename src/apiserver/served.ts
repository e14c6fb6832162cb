// Which resources kts serves. The registry holds every version the upstream OpenAPI
// document knows (alpha and beta included); like a default upstream 1.32 cluster, kts serves
// GA versions only, and one version per resource so that no conversion between versions is
// needed (HPA is served at autoscaling/v2, its preferred version). Discovery, OpenAPI,
// routing and storage all read this one list, through a per-server ServedAPIs that adds the
// custom resources of CustomResourceDefinitions.
import { allGroups, resourcesIn } from '../api/registry.js';
import type { GroupInfo, ResourceInfo } from '../api/registry-types.js';
import { CustomResourceRegistry, type ServedCustomResource } from '../apiextensions/registry.js';
import type { ResourceRequest } from './dispatch.js';

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

/**
 * An API group served in-process by a handler of its own instead of Stores, as an aggregated
 * API server would serve it (metrics.k8s.io). Its resources appear in discovery and RBAC like
 * any other; every request for them goes to `handle` once the verb is known to be allowed.
 */
export interface ExtensionAPI {
  group: GroupInfo;
  resources: readonly ResourceInfo[];
  /** Serves one request for one of `resources` (a verb it lists, no subresource). */
  handle(rr: ResourceRequest, resource: ResourceInfo): Promise<void>;
}

/**
 * What one API server serves: the built-in resources above plus the custom resources of its
 * CustomResourceDefinitions, which come and go at run time. Discovery, routing and the
 * Stores read this per-server view; the module functions above stay the built-ins alone.
 */
export class ServedAPIs {
  private union: Served | undefined;
  private readonly listeners = new Set<() => void>();
  private readonly extensions = new Map<string, ExtensionAPI>();

  constructor(readonly custom: CustomResourceRegistry = new CustomResourceRegistry()) {
    custom.onChange(() => this.changed());
  }

  private changed(): void {
    this.union = undefined;
    for (const l of [...this.listeners]) l();
  }

  /**
   * Serves an extension API group (after the built-in and custom groups, as the low group
   * priority of an aggregated API orders it); returns the function that stops serving it.
   */
  addExtension(ext: ExtensionAPI): () => void {
    this.extensions.set(ext.group.name, ext);
    this.changed();
    return () => {
      if (this.extensions.get(ext.group.name) !== ext) return;
      this.extensions.delete(ext.group.name);
      this.changed();
    };
  }

  /** The extension API serving group/version/plural, if that is one. */
  extension(group: string, version: string, plural: string): ExtensionAPI | undefined {
    const ext = this.extensions.get(group);
    if (ext === undefined || !ext.group.versions.includes(version)) return undefined;
    return ext.resources.some((r) => r.version === version && r.plural === plural) ? ext : undefined;
  }

  private get(): Served {
    if (this.union) return this.union;
    const base = withExtensions(get(), [...this.extensions.values()]);
    const entries = this.custom.current();
    if (entries.length === 0) {
      this.union = base;
      return base;
    }
    const builtinGroups = new Set(base.groups.map((g) => g.name));
    const resources = [...base.resources];
    const byGVR = new Map(base.byGVR);
    for (const e of entries) {
      const k = `${e.info.group}/${e.info.version}/${e.info.plural}`;
      // A CRD never shadows a built-in resource (the naming controller refuses such names).
      if (byGVR.has(k)) continue;
      byGVR.set(k, e.info);
      resources.push(e.info);
    }
    const groups = base.groups.filter((g) => !this.extensions.has(g.name));
    for (const g of this.custom.groups()) if (!builtinGroups.has(g.name)) groups.push(g);
    for (const e of this.extensions.values()) groups.push(e.group);
    this.union = { groups, resources, byGVR };
    return this.union;
  }

  /** Served API groups: the built-in ones in discovery order, then custom groups by name. */
  groups(): readonly GroupInfo[] {
    return this.get().groups;
  }

  /** Every served resource (custom ones after the built-ins). */
  resources(): readonly ResourceInfo[] {
    return this.get().resources;
  }

  /** The served resource at group/version/plural, if any. */
  resource(group: string, version: string, plural: string): ResourceInfo | undefined {
    return this.get().byGVR.get(`${group}/${version}/${plural}`);
  }

  /** Served resources of one group/version. */
  resourcesIn(group: string, version: string): ResourceInfo[] {
    return this.get().resources.filter((r) => r.group === group && r.version === version);
  }

  /** The custom resource served at group/version/plural, if that is one. */
  customResource(group: string, version: string, plural: string): ServedCustomResource | undefined {
    const e = this.custom.get(group, version, plural);
    return e !== undefined && this.resource(group, version, plural) === e.info ? e : undefined;
  }

  /** Subscribes to changes of the served set; returns the unsubscribe function. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}

// The built-ins plus extension groups (which never shadow a built-in resource).
function withExtensions(base: Served, exts: readonly ExtensionAPI[]): Served {
  if (exts.length === 0) return base;
  const resources = [...base.resources];
  const byGVR = new Map(base.byGVR);
  const groups = [...base.groups];
  for (const e of exts) {
    groups.push(e.group);
    for (const r of e.resources) {
      const k = `${r.group}/${r.version}/${r.plural}`;
      if (byGVR.has(k)) continue;
      byGVR.set(k, r);
      resources.push(r);
    }
  }
  return { groups, resources, byGVR };
}
