// The custom resources one API server serves right now: one entry per served version of
// every Established CustomResourceDefinition, fed by the CRD controller inside the API
// server (crd-controller.ts). Discovery, routing, storage and OpenAPI read this registry
// and listen to its changes; it belongs to one API server instance (ServerContext), never
// to the module, because tests run several API servers in one process.
import type { GroupInfo, ResourceInfo } from '../api/registry-types.js';
import type { CustomResourceDefinition } from '../api/generated/types/apiextensions-v1.js';
import type { CustomResourceSchema } from './schema/index.js';
import { compareKubeVersions } from './version-priority.js';

/** One served version of one custom resource. */
export interface ServedCustomResource {
  /** The CRD as last seen (Established). */
  crd: CustomResourceDefinition;
  /** The version served by this entry (`v1`, `v2beta1`, …). */
  version: string;
  /** The resource at this version, as the rest of the API server sees any resource. */
  info: ResourceInfo;
  /** The compiled openAPIV3Schema of this version (undefined when the version has none). */
  schema: CustomResourceSchema | undefined;
}

/** Called after the set of served custom resources changed. */
export type CustomResourceListener = () => void;

/** The served custom resources of one API server, with change notification. */
export class CustomResourceRegistry {
  private readonly byCRD = new Map<string, readonly ServedCustomResource[]>();
  private readonly listeners = new Set<CustomResourceListener>();
  private snapshot: readonly ServedCustomResource[] = [];
  private byGVR = new Map<string, ServedCustomResource>();
  private groupList: readonly GroupInfo[] = [];

  /** Every served custom resource version, grouped by CRD (CRD name order), versions by priority. */
  current(): readonly ServedCustomResource[] {
    return this.snapshot;
  }

  /** Subscribes to changes; returns the unsubscribe function. */
  onChange(listener: CustomResourceListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The served entry at group/version/plural. */
  get(group: string, version: string, plural: string): ServedCustomResource | undefined {
    return this.byGVR.get(`${group}/${version}/${plural}`);
  }

  /** The entries of one CRD (by metadata.name), empty when it is not served. */
  entriesOf(crdName: string): readonly ServedCustomResource[] {
    return this.byCRD.get(crdName) ?? [];
  }

  /** Custom API groups, sorted by name, each with its versions by upstream version priority. */
  groups(): readonly GroupInfo[] {
    return this.groupList;
  }

  /**
   * Replaces what one CRD serves (an empty list removes it). Listeners run only when
   * something changed; the same entries twice (a resync) notify nobody.
   */
  set(crdName: string, entries: readonly ServedCustomResource[]): void {
    const before = this.byCRD.get(crdName);
    if (entries.length === 0) {
      if (before === undefined) return;
      this.byCRD.delete(crdName);
    } else {
      if (before !== undefined && sameEntries(before, entries)) return;
      this.byCRD.set(crdName, entries);
    }
    this.rebuild();
    for (const l of [...this.listeners]) l();
  }

  private rebuild(): void {
    const names = [...this.byCRD.keys()].sort();
    const all: ServedCustomResource[] = [];
    for (const n of names) all.push(...this.byCRD.get(n)!);
    this.snapshot = Object.freeze(all);
    this.byGVR = new Map(all.map((e) => [`${e.info.group}/${e.info.version}/${e.info.plural}`, e]));
    const versions = new Map<string, Set<string>>();
    for (const e of all) {
      let s = versions.get(e.info.group);
      if (!s) {
        s = new Set();
        versions.set(e.info.group, s);
      }
      s.add(e.version);
    }
    this.groupList = Object.freeze(
      [...versions.keys()].sort().map((g) => {
        const vs = [...versions.get(g)!].sort(compareKubeVersions);
        return { name: g, versions: vs, preferredVersion: vs[0]! };
      }),
    );
  }
}

// The same served resources built from the same CRD revision: a resync, not a change.
function sameEntries(a: readonly ServedCustomResource[], b: readonly ServedCustomResource[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.crd.metadata?.resourceVersion !== y.crd.metadata?.resourceVersion) return false;
    if (JSON.stringify(x.info) !== JSON.stringify(y.info)) return false;
  }
  return true;
}
