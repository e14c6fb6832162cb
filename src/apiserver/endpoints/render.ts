// Response rendering: plain objects and lists, Tables for `kubectl get`, and
// PartialObjectMetadata(List) for metadata-only clients. Lists are assembled from the
// cache's pre-rendered JSON so large lists cost a string join.
import type { ResourceInfo } from '../../api/registry-types.js';
import type { Representation } from '../negotiation.js';
import type { KObject } from '../registry/object.js';
import type { ListPage } from '../registry/store.js';
import { buildTableFor, type IncludeObject } from '../printers/index.js';

/** apiVersion string of a resource's group/version. */
export function apiVersionOf(r: { group: string; version: string }): string {
  return r.group === '' ? r.version : `${r.group}/${r.version}`;
}

/** Sets apiVersion and kind on an object read from storage (they are stored, but be sure). */
export function withTypeMeta(obj: KObject, r: ResourceInfo): KObject {
  if (obj.apiVersion === apiVersionOf(r) && obj.kind === r.kind) return obj;
  const { apiVersion: _a, kind: _k, ...rest } = obj;
  return { kind: r.kind, apiVersion: apiVersionOf(r), ...rest };
}

/** An object as metav1.PartialObjectMetadata (its metadata under meta.k8s.io/<version>). */
export function partial(obj: KObject, version: string): unknown {
  return {
    kind: 'PartialObjectMetadata',
    apiVersion: `meta.k8s.io/${version}`,
    metadata: obj.metadata ?? {},
  };
}

/** Renders one object per the negotiated representation. */
export function renderObject(
  obj: KObject,
  r: ResourceInfo,
  rep: Representation,
  includeObject: IncludeObject,
  now: Date,
): string {
  switch (rep.kind) {
    case 'table':
      return JSON.stringify(buildTableFor(r, [obj], { includeObject, now, version: rep.version }));
    case 'partial':
      return JSON.stringify(partial(obj, rep.version));
    default:
      return JSON.stringify(withTypeMeta(obj, r));
  }
}

/** Renders a list page per the negotiated representation. */
export function renderList(
  page: ListPage,
  r: ResourceInfo,
  rep: Representation,
  includeObject: IncludeObject,
  now: Date,
): string {
  const metadata: Record<string, unknown> = { resourceVersion: page.resourceVersion };
  if (page.continue) metadata.continue = page.continue;
  if (page.remainingItemCount !== undefined) metadata.remainingItemCount = page.remainingItemCount;
  if (rep.kind === 'table') {
    const t = buildTableFor(
      r,
      page.items.map((e) => e.obj),
      { includeObject, now, version: rep.version },
    );
    t.metadata = metadata;
    return JSON.stringify(t);
  }
  if (rep.kind === 'partial') {
    return JSON.stringify({
      kind: 'PartialObjectMetadataList',
      apiVersion: `meta.k8s.io/${rep.version}`,
      metadata,
      items: page.items.map((e) => partial(e.obj, rep.version)),
    });
  }
  const head = `{"kind":${JSON.stringify(r.listKind)},"apiVersion":${JSON.stringify(apiVersionOf(r))},"metadata":${JSON.stringify(metadata)},"items":[`;
  return `${head}${page.items.map((e) => e.json).join(',')}]}`;
}
