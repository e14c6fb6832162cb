// ControllerRevision history (upstream pkg/controller/history): StatefulSets and DaemonSets
// snapshot their pod template as ControllerRevisions named `<parent>-<hash>`, so a rollout
// knows which pods run which template and `kubectl rollout undo` can patch an old template
// back. The hash is FNV-32a over the revision data (plus the parent's collisionCount, so a
// hash collision is resolved by bumping the count), rendered with SafeEncodeString.
import type { ControllerRevision } from '../../api/generated/types/apps-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import { gvr, type Client, type ResourceClient } from '../../client/interface.js';
import type { Selector } from '../../machinery/labels/selector.js';
import { safeEncodeString } from '../../machinery/object-meta.js';
import { type GroupVersionKind, isControlledBy, newControllerRef } from '../../machinery/owner-references.js';
import { isAlreadyExists } from '../../machinery/status-error.js';

/** apps/v1 controllerrevisions. */
export const CONTROLLER_REVISIONS = gvr<ControllerRevision>('apps', 'v1', 'controllerrevisions');

/** The label carrying a pod's (or revision's) template revision (`controller-revision-hash`). */
export const CONTROLLER_REVISION_HASH_LABEL = 'controller-revision-hash';

/** Longest parent-name prefix of a revision name (upstream's ControllerRevisionName). */
const MAX_REVISION_PREFIX = 223;

/** JSON with object keys sorted (Go's encoding of maps), so equal data hashes equally. */
export function stableJSON(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value))
    return `[${value.map((v) => (v === undefined ? 'null' : stableJSON(v))).join(',')}]`;
  const obj = value as Record<string, unknown>;
  const parts: string[] = [];
  for (const k of Object.keys(obj).sort()) {
    const v = obj[k];
    if (v === undefined) continue;
    parts.push(`${JSON.stringify(k)}:${stableJSON(v)}`);
  }
  return `{${parts.join(',')}}`;
}

/** FNV-32a of bytes. */
export function fnv32a(data: Uint8Array, seed = 0x811c9dc5): number {
  let h = seed >>> 0;
  for (const b of data) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h >>> 0;
}

function hashWithCollision(json: string, collisionCount: number | undefined): string {
  let h = fnv32a(Buffer.from(json, 'utf8'));
  if (collisionCount !== undefined) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(collisionCount >>> 0);
    h = fnv32a(b, h);
  }
  return safeEncodeString(String(h));
}

/** HashControllerRevision: the hash of a revision's data and the parent's collisionCount. */
export function hashControllerRevision(data: unknown, collisionCount?: number): string {
  return hashWithCollision(stableJSON(data), collisionCount);
}

/** controller.ComputeHash: the hash of a pod template and collisionCount (DaemonSet pods). */
export function computeTemplateHash(template: unknown, collisionCount?: number): string {
  return hashWithCollision(stableJSON(template), collisionCount);
}

/** `<prefix>-<hash>`, the prefix cut to 223 characters. */
export function controllerRevisionName(prefix: string, hash: string): string {
  const p = prefix.length > MAX_REVISION_PREFIX ? prefix.slice(0, MAX_REVISION_PREFIX) : prefix;
  return `${p}-${hash}`;
}

/** The strategic-merge patch a revision stores: the template, replacing the parent's. */
export function templatePatch(template: unknown): Record<string, unknown> {
  const t = JSON.parse(JSON.stringify(template ?? {})) as Record<string, unknown>;
  t.$patch = 'replace';
  return { spec: { template: t } };
}

/** The pod template stored in a revision's data (without the `$patch` directive). */
export function templateFromRevision<T>(rev: ControllerRevision): T | undefined {
  const data = rev.data as { spec?: { template?: Record<string, unknown> } } | undefined;
  const t = data?.spec?.template;
  if (t === undefined) return undefined;
  const { $patch: _ignored, ...rest } = t;
  return rest as T;
}

/** A parent object owning revisions. */
export interface RevisionParent {
  metadata?: { name?: string; namespace?: string; uid?: string; annotations?: Record<string, string> };
}

/**
 * Builds a revision of `parent` (NewControllerRevision); its name carries the hash, by
 * default that of the data (DaemonSets pass their template hash instead).
 */
export function newControllerRevision(
  parent: RevisionParent,
  gvk: GroupVersionKind,
  templateLabels: Record<string, string> | undefined,
  data: unknown,
  revision: number,
  collisionCount: number | undefined,
  hash: string = hashControllerRevision(data, collisionCount),
): ControllerRevision {
  const labels: Record<string, string> = {
    ...(templateLabels ?? {}),
    [CONTROLLER_REVISION_HASH_LABEL]: hash,
  };
  return {
    apiVersion: 'apps/v1',
    kind: 'ControllerRevision',
    metadata: {
      name: controllerRevisionName(parent.metadata?.name ?? '', hash),
      namespace: parent.metadata?.namespace ?? '',
      labels,
      ownerReferences: [newControllerRef(parent, gvk)],
    },
    data: data as ControllerRevision['data'],
    revision,
  };
}

/** True when two revisions hold the same data (history.EqualRevision). */
export function equalRevision(a: ControllerRevision, b: ControllerRevision): boolean {
  return stableJSON(a.data) === stableJSON(b.data);
}

/** Revisions equal to needle, oldest first. */
export function findEqualRevisions(
  revisions: ControllerRevision[],
  needle: ControllerRevision,
): ControllerRevision[] {
  return revisions.filter((r) => equalRevision(r, needle));
}

/** Sorts by revision number, then creation time, then name (history.SortControllerRevisions). */
export function sortControllerRevisions(revisions: ControllerRevision[]): ControllerRevision[] {
  return revisions.sort((a, b) => {
    if (a.revision !== b.revision) return a.revision - b.revision;
    const ta = a.metadata?.creationTimestamp ?? '';
    const tb = b.metadata?.creationTimestamp ?? '';
    if (ta !== tb) return ta < tb ? -1 : 1;
    const na = a.metadata?.name ?? '';
    const nb = b.metadata?.name ?? '';
    return na < nb ? -1 : na > nb ? 1 : 0;
  });
}

/** One more than the highest revision number (1 when there is none). */
export function nextRevision(revisions: ControllerRevision[]): number {
  let max = 0;
  for (const r of revisions) max = Math.max(max, r.revision);
  return max + 1;
}

/** Reads and writes the revisions of one kind of parent (history.Interface). */
export class ControllerHistory {
  private readonly revisions: ResourceClient<ControllerRevision>;

  /** History through `client`, reading from `lister`. */
  constructor(
    client: Client,
    private readonly lister: Lister<ControllerRevision>,
  ) {
    this.revisions = client.resource(CONTROLLER_REVISIONS);
  }

  /** Revisions in parent's namespace matching selector and controlled by parent (orphans adopted by caller). */
  list(parent: RevisionParent, selector: Selector): ControllerRevision[] {
    const ns = parent.metadata?.namespace ?? '';
    return this.lister
      .namespace(ns)
      .list(selector)
      .filter((r) => isControlledBy(r, parent));
  }

  /**
   * Creates a revision; when its name is taken by a different revision, bumps the collision
   * count and tries again (as upstream). Returns the stored revision and the count used.
   */
  async create(
    parent: RevisionParent,
    gvk: GroupVersionKind,
    templateLabels: Record<string, string> | undefined,
    data: unknown,
    revision: number,
    collisionCount: number,
    hashFn?: (collisionCount: number) => string,
  ): Promise<{ revision: ControllerRevision; collisionCount: number }> {
    let count = collisionCount;
    for (let attempt = 0; attempt < 10; attempt++) {
      const hash = hashFn !== undefined ? hashFn(count) : hashControllerRevision(data, count);
      const cr = newControllerRevision(parent, gvk, templateLabels, data, revision, count, hash);
      const ns = cr.metadata?.namespace ?? '';
      try {
        return { revision: await this.revisions.create(ns, cr), collisionCount: count };
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
        const existing = await this.revisions.get(ns, cr.metadata?.name ?? '');
        if (isControlledBy(existing, parent) && equalRevision(existing, cr)) {
          return { revision: existing, collisionCount: count };
        }
        count++;
      }
    }
    throw new Error(`too many hash collisions creating a revision of ${parent.metadata?.name ?? ''}`);
  }

  /** Sets a revision's number (history.UpdateControllerRevision). */
  async updateRevision(rev: ControllerRevision, revision: number): Promise<ControllerRevision> {
    if (rev.revision === revision) return rev;
    return this.revisions.patch(rev.metadata?.namespace ?? '', rev.metadata?.name ?? '', 'merge', {
      revision,
    });
  }

  /** Deletes a revision. */
  async delete(rev: ControllerRevision): Promise<void> {
    await this.revisions.delete(rev.metadata?.namespace ?? '', rev.metadata?.name ?? '');
  }
}
