// Helpers over metadata that work on any object shaped like `{ metadata?: ObjectMeta }`:
// keys, labels and annotations, finalizers, deletion state, and the values the API server
// fills in on create (generated names, uids, timestamps) with upstream's exact rules.
// ObjectMetaLike is a structural subset so that both generated types and plain JSON fit.

import { randomInt, randomUUID } from 'node:crypto';
import type { OwnerReference } from './owner-references.js';

/** The subset of metav1.ObjectMeta these helpers read and write. */
export interface ObjectMetaLike {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string | null;
  deletionTimestamp?: string | null;
  deletionGracePeriodSeconds?: number | null;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: OwnerReference[];
  finalizers?: string[];
}

/** Any object with (optional) metadata. */
export interface HasMetadata {
  metadata?: ObjectMetaLike;
}

/** The object's metadata, created empty if missing (for writers). */
export function ensureMetadata(obj: HasMetadata): ObjectMetaLike {
  if (obj.metadata === undefined || obj.metadata === null) obj.metadata = {};
  return obj.metadata;
}

/** metadata.name, or ''. */
export function getName(obj: HasMetadata): string {
  return obj.metadata?.name ?? '';
}

/** metadata.namespace, or ''. */
export function getNamespace(obj: HasMetadata): string {
  return obj.metadata?.namespace ?? '';
}

/** metadata.uid, or ''. */
export function getUID(obj: HasMetadata): string {
  return obj.metadata?.uid ?? '';
}

/** `namespace/name`, or `name` for a cluster-scoped object (client-go's MetaNamespaceKeyFunc). */
export function namespaceKey(namespace: string | undefined, name: string): string {
  return namespace !== undefined && namespace !== '' ? `${namespace}/${name}` : name;
}

/** The cache key of an object: `ns/name` or `name`. */
export function metaNamespaceKey(obj: HasMetadata): string {
  return namespaceKey(obj.metadata?.namespace, obj.metadata?.name ?? '');
}

/** Splits a `ns/name` or `name` key; throws for more than one '/' as client-go does. */
export function splitMetaNamespaceKey(key: string): { namespace: string; name: string } {
  const parts = key.split('/');
  if (parts.length === 1) return { namespace: '', name: parts[0] as string };
  if (parts.length === 2) return { namespace: parts[0] as string, name: parts[1] as string };
  throw new Error(`unexpected key format: ${JSON.stringify(key)}`);
}

/** metadata.labels (never undefined; do not mutate the result without setLabel). */
export function getLabels(obj: HasMetadata): Record<string, string> {
  return obj.metadata?.labels ?? {};
}

/** One label's value, if present. */
export function getLabel(obj: HasMetadata, key: string): string | undefined {
  const labels = obj.metadata?.labels;
  return labels !== undefined && Object.hasOwn(labels, key) ? labels[key] : undefined;
}

/** True when the label is present. */
export function hasLabel(obj: HasMetadata, key: string): boolean {
  return getLabel(obj, key) !== undefined;
}

/** Sets one label, creating the map as needed. */
export function setLabel(obj: HasMetadata, key: string, value: string): void {
  const meta = ensureMetadata(obj);
  meta.labels = { ...(meta.labels ?? {}), [key]: value };
}

/** Removes one label. */
export function removeLabel(obj: HasMetadata, key: string): void {
  const labels = obj.metadata?.labels;
  if (labels === undefined || !Object.hasOwn(labels, key)) return;
  const { [key]: _, ...rest } = labels;
  ensureMetadata(obj).labels = rest;
}

/** metadata.annotations (never undefined). */
export function getAnnotations(obj: HasMetadata): Record<string, string> {
  return obj.metadata?.annotations ?? {};
}

/** One annotation's value, if present. */
export function getAnnotation(obj: HasMetadata, key: string): string | undefined {
  const ann = obj.metadata?.annotations;
  return ann !== undefined && Object.hasOwn(ann, key) ? ann[key] : undefined;
}

/** True when the annotation is present. */
export function hasAnnotation(obj: HasMetadata, key: string): boolean {
  return getAnnotation(obj, key) !== undefined;
}

/** Sets one annotation, creating the map as needed. */
export function setAnnotation(obj: HasMetadata, key: string, value: string): void {
  const meta = ensureMetadata(obj);
  meta.annotations = { ...(meta.annotations ?? {}), [key]: value };
}

/** Removes one annotation. */
export function removeAnnotation(obj: HasMetadata, key: string): void {
  const ann = obj.metadata?.annotations;
  if (ann === undefined || !Object.hasOwn(ann, key)) return;
  const { [key]: _, ...rest } = ann;
  ensureMetadata(obj).annotations = rest;
}

/** True when the finalizer is present. */
export function hasFinalizer(obj: HasMetadata, finalizer: string): boolean {
  return (obj.metadata?.finalizers ?? []).includes(finalizer);
}

/** Appends the finalizer if absent; returns true when the object changed. */
export function addFinalizer(obj: HasMetadata, finalizer: string): boolean {
  if (hasFinalizer(obj, finalizer)) return false;
  const meta = ensureMetadata(obj);
  meta.finalizers = [...(meta.finalizers ?? []), finalizer];
  return true;
}

/** Removes every occurrence of the finalizer; returns true when the object changed. */
export function removeFinalizer(obj: HasMetadata, finalizer: string): boolean {
  if (!hasFinalizer(obj, finalizer)) return false;
  const meta = ensureMetadata(obj);
  const rest = (meta.finalizers ?? []).filter((f) => f !== finalizer);
  if (rest.length === 0) delete meta.finalizers;
  else meta.finalizers = rest;
  return true;
}

/** True once deletion was requested (deletionTimestamp set); finalizers may still hold it. */
export function isBeingDeleted(obj: HasMetadata): boolean {
  const ts = obj.metadata?.deletionTimestamp;
  return ts !== undefined && ts !== null && ts !== '';
}

/** The orphan finalizer (metav1.FinalizerOrphanDependents). */
export const FINALIZER_ORPHAN_DEPENDENTS = 'orphan';
/** The foreground-deletion finalizer (metav1.FinalizerDeleteDependents). */
export const FINALIZER_DELETE_DEPENDENTS = 'foregroundDeletion';

// Upstream's util/rand alphabet: no vowels (no accidental words) and no look-alike characters.
const ALPHANUMS = 'bcdfghjklmnpqrstvwxz2456789';
/** Upstream's maxNameLength for generated names. */
export const MAX_NAME_LENGTH = 63;
/** Upstream's randomLength: characters appended to generateName. */
export const RANDOM_LENGTH = 5;
/** Longest generateName base kept before the random suffix (63 - 5). */
export const MAX_GENERATED_NAME_LENGTH = MAX_NAME_LENGTH - RANDOM_LENGTH;

/** A random string of n characters from upstream's alphabet (util/rand.String). */
export function randomString(n: number, rand: (max: number) => number = randomInt): string {
  let s = '';
  for (let i = 0; i < n; i++) s += ALPHANUMS[rand(ALPHANUMS.length)];
  return s;
}

/**
 * A name from a generateName base: the base cut to 58 characters plus 5 random characters
 * (upstream's SimpleNameGenerator).
 */
export function generateName(base: string, rand?: (max: number) => number): string {
  const b = base.length > MAX_GENERATED_NAME_LENGTH ? base.slice(0, MAX_GENERATED_NAME_LENGTH) : base;
  return b + randomString(RANDOM_LENGTH, rand);
}

/** Maps each character onto upstream's alphabet (util/rand.SafeEncodeString, used for hashes). */
export function safeEncodeString(s: string): string {
  let out = '';
  for (const ch of s) out += ALPHANUMS[(ch.codePointAt(0) ?? 0) % ALPHANUMS.length];
  return out;
}

/** A new object uid (RFC 4122 version 4). */
export function newUID(): string {
  return randomUUID();
}

/** metav1.Time on the wire: RFC 3339 in UTC with second precision (`2024-05-01T12:00:00Z`). */
export function formatTimestamp(t: Date | number = Date.now()): string {
  const d = typeof t === 'number' ? new Date(t) : t;
  return `${d.toISOString().slice(0, 19)}Z`;
}

/** metav1.MicroTime on the wire: RFC 3339 in UTC with microseconds (`…T12:00:00.123000Z`). */
export function formatMicroTimestamp(t: Date | number = Date.now()): string {
  const d = typeof t === 'number' ? new Date(t) : t;
  return `${d.toISOString().slice(0, 23)}000Z`;
}

/** Parses an RFC 3339 timestamp to epoch milliseconds; undefined when absent or invalid. */
export function parseTimestamp(ts: string | undefined | null): number | undefined {
  if (ts === undefined || ts === null || ts === '') return undefined;
  const ms = Date.parse(ts);
  return Number.isNaN(ms) ? undefined : ms;
}

/** metadata.creationTimestamp as epoch milliseconds, if set. */
export function creationTime(obj: HasMetadata): number | undefined {
  return parseTimestamp(obj.metadata?.creationTimestamp);
}
