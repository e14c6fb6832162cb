// Discovery documents: legacy (/api, /apis, /apis/<g>, /api/v1, /apis/<g>/<v>) and
// aggregated (apidiscovery.k8s.io v2 and v2beta1). Field order follows upstream's JSON so
// clients that cache or diff discovery see familiar documents. Every document is computed
// once and kept as bytes: discovery is requested by every kubectl invocation.
import { createHash } from 'node:crypto';
import { discoveryVerbs } from '../api/registry.js';
import type { ResourceInfo } from '../api/registry-types.js';
import { ServedAPIs } from './served.js';

/** The address clients are told to use (serverAddressByClientCIDRs). */
export interface DiscoveryOptions {
  serverAddress: string;
  /** What the server serves (default: the built-in resources only). */
  served?: ServedAPIs;
}

interface APIResource {
  name: string;
  singularName: string;
  namespaced: boolean;
  group?: string;
  version?: string;
  kind: string;
  verbs: string[];
  shortNames?: string[];
  categories?: string[];
  storageVersionHash?: string;
}

// Upstream hashes group/version/kind of the storage version; clients only compare it.
function storageVersionHash(r: ResourceInfo): string {
  return createHash('sha256')
    .update(`${r.group}/${r.version}/${r.kind}`)
    .digest()
    .subarray(0, 8)
    .toString('base64');
}

function apiResources(served: ServedAPIs, group: string, version: string): APIResource[] {
  const out: APIResource[] = [];
  const rs = [...served.resourcesIn(group, version)].sort((a, b) =>
    a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0,
  );
  for (const r of rs) {
    const e: APIResource = {
      name: r.plural,
      singularName: r.singular,
      namespaced: r.namespaced,
      kind: r.kind,
      verbs: discoveryVerbs(r.verbs),
    };
    if (r.shortNames.length > 0) e.shortNames = [...r.shortNames];
    if (r.categories.length > 0) e.categories = [...r.categories];
    // Resources of an extension (aggregated) API have no storage version.
    const stored = served.extension(group, version, r.plural) === undefined;
    if (stored && (r.verbs.includes('list') || r.verbs.includes('get')))
      e.storageVersionHash = storageVersionHash(r);
    out.push(e);
    for (const s of [...r.subresources].sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const se: APIResource = {
        name: `${r.plural}/${s.name}`,
        singularName: '',
        namespaced: r.namespaced,
        kind: s.kind,
        verbs: discoveryVerbs(s.verbs),
      };
      if (s.group !== undefined && (s.group !== r.group || s.version !== r.version)) {
        const ordered: APIResource = {
          name: se.name,
          singularName: '',
          namespaced: r.namespaced,
          group: s.group,
          version: s.version ?? '',
          kind: s.kind,
          verbs: se.verbs,
        };
        out.push(ordered);
      } else out.push(se);
    }
  }
  return out;
}

const json = (v: unknown): Buffer => Buffer.from(JSON.stringify(v));

/** Computes and caches every discovery document. */
export class Discovery {
  private readonly cache = new Map<string, Buffer>();
  private readonly served: ServedAPIs;
  private readonly unsubscribe: () => void;

  constructor(private readonly opts: DiscoveryOptions) {
    this.served = opts.served ?? new ServedAPIs();
    // Custom resources come and go: every document is rebuilt (and so gets a new ETag).
    this.unsubscribe = this.served.onChange(() => this.cache.clear());
  }

  /** Stops following changes of the served set. */
  close(): void {
    this.unsubscribe();
  }

  private memo(key: string, build: () => unknown): Buffer {
    let b = this.cache.get(key);
    if (!b) {
      b = json(build());
      this.cache.set(key, b);
    }
    return b;
  }

  /** GET /api */
  apiVersions(): Buffer {
    return this.memo('api', () => ({
      kind: 'APIVersions',
      versions: ['v1'],
      serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: this.opts.serverAddress }],
    }));
  }

  private groupEntry(name: string): unknown {
    const g = this.served.groups().find((x) => x.name === name);
    if (!g) return undefined;
    return {
      name: g.name,
      versions: g.versions.map((v) => ({ groupVersion: `${g.name}/${v}`, version: v })),
      preferredVersion: { groupVersion: `${g.name}/${g.preferredVersion}`, version: g.preferredVersion },
    };
  }

  /** GET /apis */
  apiGroupList(): Buffer {
    return this.memo('apis', () => ({
      kind: 'APIGroupList',
      apiVersion: 'v1',
      groups: this.served
        .groups()
        .filter((g) => g.name !== '')
        .map((g) => this.groupEntry(g.name)),
    }));
  }

  /** GET /apis/<group>; undefined when not served. */
  apiGroup(name: string): Buffer | undefined {
    if (name === '' || !this.served.groups().some((g) => g.name === name)) return undefined;
    return this.memo(`group:${name}`, () => ({
      kind: 'APIGroup',
      apiVersion: 'v1',
      ...(this.groupEntry(name) as object),
    }));
  }

  /** GET /api/v1 or /apis/<group>/<version>; undefined when not served. */
  apiResourceList(group: string, version: string): Buffer | undefined {
    const g = this.served.groups().find((x) => x.name === group);
    if (!g?.versions.includes(version)) return undefined;
    return this.memo(`rl:${group}/${version}`, () =>
      group === ''
        ? {
            kind: 'APIResourceList',
            groupVersion: version,
            resources: apiResources(this.served, group, version),
          }
        : {
            kind: 'APIResourceList',
            apiVersion: 'v1',
            groupVersion: `${group}/${version}`,
            resources: apiResources(this.served, group, version),
          },
    );
  }

  /** Aggregated discovery for /api (legacy: true) or /apis, as v2 or v2beta1. */
  aggregated(legacy: boolean, version: 'v2' | 'v2beta1'): Buffer {
    return this.memo(`agg:${legacy}:${version}`, () => ({
      kind: 'APIGroupDiscoveryList',
      apiVersion: `apidiscovery.k8s.io/${version}`,
      metadata: {},
      items: this.served
        .groups()
        .filter((g) => (legacy ? g.name === '' : g.name !== ''))
        .map((g) => ({
          metadata: { ...(g.name !== '' ? { name: g.name } : {}), creationTimestamp: null },
          versions: g.versions.map((v) => ({
            version: v,
            resources: aggregatedResources(this.served, g.name, v),
            freshness: 'Current',
          })),
        })),
    }));
  }

  /** An ETag for a cached document (clients revalidate aggregated discovery with it). */
  etag(body: Buffer): string {
    return `"${createHash('sha512').update(body).digest('hex').toUpperCase()}"`;
  }
}

function aggregatedResources(served: ServedAPIs, group: string, version: string): unknown[] {
  const rs = [...served.resourcesIn(group, version)].sort((a, b) =>
    a.plural < b.plural ? -1 : a.plural > b.plural ? 1 : 0,
  );
  return rs.map((r) => {
    const e: Record<string, unknown> = {
      resource: r.plural,
      responseKind: { group: '', version: '', kind: r.kind },
      scope: r.namespaced ? 'Namespaced' : 'Cluster',
      singularResource: r.singular,
      verbs: discoveryVerbs(r.verbs),
    };
    if (r.shortNames.length > 0) e.shortNames = [...r.shortNames];
    if (r.categories.length > 0) e.categories = [...r.categories];
    if (r.subresources.length > 0) {
      e.subresources = [...r.subresources]
        .sort((a, b) => (a.name < b.name ? -1 : 1))
        .map((s) => ({
          subresource: s.name,
          responseKind: {
            group: s.group !== undefined && s.group !== r.group ? s.group : '',
            version:
              s.version !== undefined && (s.group !== r.group || s.version !== r.version) ? s.version : '',
            kind: s.kind,
          },
          verbs: discoveryVerbs(s.verbs),
        }));
    }
    return e;
  });
}
