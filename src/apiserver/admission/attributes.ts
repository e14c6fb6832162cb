// Helpers every admission plugin shares: what kind of object a request is about, the
// upstream `admission.NewForbidden` message (which names the object even before its name is
// generated), typed views of pods, and quiet lookups through the StoreRegistry.
import type { Container, Pod, PodSpec } from '../../api/generated/types/core-v1.js';
import { forbidden, isNotFound, type StatusError } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import type { AdmissionRequest } from './types.js';

/** True when the request is about group/plural (any subresource). */
export function isResource(req: AdmissionRequest, group: string, plural: string): boolean {
  return req.resource.group === group && req.resource.plural === plural;
}

/** True for the main resource of pods (no subresource). */
export function isPodMain(req: AdmissionRequest): boolean {
  return isResource(req, '', 'pods') && req.subresource === '';
}

/**
 * The name upstream's NewForbidden uses: the object's name, else its generateName, else
 * the request's name.
 */
export function objectNameOf(req: AdmissionRequest): string {
  const m = req.object?.metadata ?? req.oldObject?.metadata;
  if (m?.name) return m.name;
  if (m?.generateName) return m.generateName;
  return req.name;
}

/** 403 `<resource> "<name>" is forbidden: <why>`, as upstream's admission.NewForbidden. */
export function denied(req: AdmissionRequest, why: string): StatusError {
  return forbidden({ group: req.resource.group, resource: req.resource.plural }, objectNameOf(req), why);
}

/** The object as a Pod (the caller checked the resource). */
export function asPod(obj: KObject | undefined): Pod | undefined {
  return obj as unknown as Pod | undefined;
}

/** The pod's spec, created when missing so mutating plugins can write to it. */
export function podSpec(pod: Pod): PodSpec {
  if (pod.spec === undefined) pod.spec = { containers: [] };
  if (pod.spec.containers === undefined) pod.spec.containers = [];
  return pod.spec;
}

/** Regular and init containers, in that order (ephemeral containers excluded). */
export function allContainers(spec: PodSpec | undefined): Container[] {
  return [...(spec?.initContainers ?? []), ...(spec?.containers ?? [])];
}

/** Upstream's mirror-pod annotation. */
export const MIRROR_POD_ANNOTATION = 'kubernetes.io/config.mirror';

/** True for a static pod's mirror. */
export function isMirrorPod(pod: Pod | undefined): boolean {
  return pod?.metadata?.annotations?.[MIRROR_POD_ANNOTATION] !== undefined;
}

/** Gets an object, or undefined when it does not exist. */
export async function getOrUndefined(
  stores: StoreRegistry,
  group: string,
  plural: string,
  namespace: string,
  name: string,
): Promise<KObject | undefined> {
  try {
    return await stores.byName(group, plural).get(namespace, name);
  } catch (e) {
    if (isNotFound(e)) return undefined;
    throw e;
  }
}

/** Every object of a resource in a namespace ('' for all or cluster-scoped), from the watch cache. */
export async function listObjects(
  stores: StoreRegistry,
  group: string,
  plural: string,
  namespace: string,
): Promise<KObject[]> {
  const entries = await stores.byName(group, plural).listAll(namespace);
  return entries.map((e) => e.obj);
}

/** `"a", "b"` — upstream's joinQuote. */
export function joinQuote(items: readonly string[]): string {
  return items.map((s) => JSON.stringify(s)).join(', ');
}

/** singular when n is 1, else plural. */
export function pluralize(singular: string, plural: string, n: number): string {
  return n === 1 ? singular : plural;
}

/** Go's sort.Strings order (bytewise). */
export function sortStrings(items: Iterable<string>): string[] {
  return [...items].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}
