// Static pods (upstream pkg/kubelet/config/file.go + common.go, and mirror_client.go): pods
// read from manifest files in `--pod-manifest-path`, run by this kubelet without the API
// server deciding anything. Each manifest (`*.yaml`, `*.yml`, `*.json`; one Pod or a
// PodList) becomes a pod named `<name>-<node>` in its namespace (default `default`), bound
// to this node, tolerating every NoExecute taint, with a uid that is a hash of its content,
// the node and the file — so an edited file is a *different* pod: the old one is stopped and
// the new one started, as upstream does. The directory is rescanned periodically and on
// file-system events.
//
// The API learns of a static pod through its mirror pod: a copy created by the kubelet with
// the `kubernetes.io/config.mirror` annotation (the static pod's hash) and the Node as its
// controller owner. Its status is the static pod's; a mirror deleted through the API, or one
// whose hash no longer matches, is (re)created by the kubelet.

import { createHash } from 'node:crypto';
import { type FSWatcher, readdirSync, readFileSync, statSync, watch } from 'node:fs';
import { extname, join } from 'node:path';
import { parse } from 'yaml';
import { defaultPod } from '../api/defaults/pod.js';
import type { Pod } from '../api/generated/types/core-v1.js';
import type { Clock } from '../client/clock.js';
import type { Client } from '../client/interface.js';
import { errorText, type Logger } from '../client/log.js';
import { PODS } from '../client/resources.js';
import { isAlreadyExists, isConflict, isNotFound } from '../machinery/status-error.js';

/** Where a pod came from (`file` for static pods, `api` otherwise). */
export const CONFIG_SOURCE_ANNOTATION = 'kubernetes.io/config.source';
/** The static pod's hash (its uid). */
export const CONFIG_HASH_ANNOTATION = 'kubernetes.io/config.hash';
/** When the kubelet first saw the pod (RFC 3339 with nanoseconds). */
export const CONFIG_SEEN_ANNOTATION = 'kubernetes.io/config.seen';
/** Marks a mirror pod; its value is the static pod's hash. */
export const CONFIG_MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

/** Upstream's cap on a manifest's size (10 MiB). */
const MAX_CONFIG_LENGTH = 10 * (1 << 20);

/** A manifest that cannot be a static pod, with upstream-like wording. */
export class ManifestError extends Error {
  override readonly name = 'ManifestError';
}

/** True for a pod read from a manifest file. */
export function isStaticPod(pod: Pod | undefined): boolean {
  return pod?.metadata?.annotations?.[CONFIG_SOURCE_ANNOTATION] === 'file';
}

/** True for a mirror pod (the API's copy of a static pod). */
export function isMirrorPod(pod: Pod | undefined): boolean {
  return pod?.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== undefined;
}

/** The static pod's hash (its config.hash annotation, else its uid). */
export function staticPodHash(pod: Pod): string {
  return pod.metadata?.annotations?.[CONFIG_HASH_ANNOTATION] ?? pod.metadata?.uid ?? '';
}

/** `2006-01-02T15:04:05.999999999Z07:00` as Go prints a time.Time with nanoseconds. */
function rfc3339Nano(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.replace(/\.?0*Z$/, 'Z').replace(/\.(\d*?)0+Z$/, '.$1Z');
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Upstream applyDefaults for a file source, on an already decoded pod (mutates it). */
export function applyStaticPodDefaults(pod: Pod, file: string, nodeName: string): Pod {
  pod.apiVersion = 'v1';
  pod.kind = 'Pod';
  pod.metadata ??= {};
  pod.spec ??= { containers: [] };
  defaultPod(pod);
  const node = nodeName.toLowerCase();
  if (pod.metadata.uid === undefined || pod.metadata.uid === '') {
    // Content, node and file together: the same manifest on two nodes, or in two files, is two pods.
    const h = createHash('sha256')
      .update(JSON.stringify(pod))
      .update(`host:${nodeName}`)
      .update(`file:${file}`);
    pod.metadata.uid = h.digest('hex').slice(0, 32);
  }
  pod.metadata.name = `${pod.metadata.name ?? ''}-${node}`;
  if (pod.metadata.namespace === undefined || pod.metadata.namespace === '')
    pod.metadata.namespace = 'default';
  pod.spec.nodeName = nodeName;
  pod.metadata.annotations = {
    ...(pod.metadata.annotations ?? {}),
    [CONFIG_HASH_ANNOTATION]: pod.metadata.uid,
    [CONFIG_SOURCE_ANNOTATION]: 'file',
  };
  // Static pods are not evicted for node problems: they tolerate every NoExecute taint.
  const tolerations = pod.spec.tolerations ?? [];
  if (!tolerations.some((t) => t.operator === 'Exists' && t.effect === 'NoExecute' && (t.key ?? '') === ''))
    tolerations.push({ operator: 'Exists', effect: 'NoExecute' });
  pod.spec.tolerations = tolerations;
  pod.status = { phase: 'Pending' };
  return pod;
}

/** The pods of one manifest's text (a Pod or a PodList), defaulted as static pods. */
export function parseManifest(text: string, file: string, nodeName: string): Pod[] {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (e) {
    throw new ManifestError(`${file}: invalid pod: ${errorText(e)}`);
  }
  if (!isRecord(doc)) throw new ManifestError(`${file}: invalid pod: not an object`);
  const items: unknown[] =
    doc.kind === 'PodList' || doc.kind === 'List' ? (Array.isArray(doc.items) ? doc.items : []) : [doc];
  return items.map((item, i) => {
    const where = items.length > 1 ? `${file}[${i}]` : file;
    if (!isRecord(item)) throw new ManifestError(`${where}: invalid pod: not an object`);
    if (item.kind !== undefined && item.kind !== 'Pod')
      throw new ManifestError(`${where}: invalid pod: kind "${String(item.kind)}" is not a Pod`);
    if (item.apiVersion !== undefined && item.apiVersion !== 'v1')
      throw new ManifestError(`${where}: invalid pod: apiVersion "${String(item.apiVersion)}" is not v1`);
    const pod = structuredClone(item) as Pod;
    if (typeof pod.metadata?.name !== 'string' || pod.metadata.name === '')
      throw new ManifestError(
        `${where}: invalid pod: metadata.name: Required value: name or generateName is required`,
      );
    if (!Array.isArray(pod.spec?.containers) || pod.spec.containers.length === 0)
      throw new ManifestError(`${where}: invalid pod: spec.containers: Required value`);
    return applyStaticPodDefaults(pod, file, nodeName);
  });
}

/** The mirror pod of a static pod, owned by the node (uid `nodeUid`). */
export function mirrorPodFor(pod: Pod, nodeName: string, nodeUid: string): Pod {
  const m = pod.metadata ?? {};
  const metadata: NonNullable<Pod['metadata']> = {
    name: m.name ?? '',
    namespace: m.namespace ?? 'default',
    annotations: { ...(m.annotations ?? {}), [CONFIG_MIRROR_ANNOTATION]: staticPodHash(pod) },
    ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid, controller: true }],
  };
  if (m.labels !== undefined) metadata.labels = { ...m.labels };
  return { apiVersion: 'v1', kind: 'Pod', metadata, spec: structuredClone(pod.spec ?? { containers: [] }) };
}

/** Options of the manifest directory source. */
export interface StaticPodSourceOptions {
  /** The `--pod-manifest-path` directory. */
  dir: string;
  nodeName: string;
  clock: Clock;
  logger: Logger;
  /** Rescan period (upstream's file check frequency is 20 s; kts uses 5 s). */
  intervalMs?: number;
  /** Called with every static pod after each scan that changed something. */
  onChange: (pods: Pod[]) => void;
}

const MANIFEST_EXTENSIONS = new Set(['.yaml', '.yml', '.json']);

/** Watches a manifest directory and reports the static pods it holds. */
export class StaticPodSource {
  private readonly seen = new Map<string, number>();
  private last = '';
  private watcher: FSWatcher | undefined;
  private wake: (() => void) | undefined;

  /** A source over `o.dir` (call `scan` once, then `run`). */
  constructor(private readonly o: StaticPodSourceOptions) {}

  /** Reads every manifest now; a bad file is logged and skipped, as upstream does. */
  scan(): Pod[] {
    const pods: Pod[] = [];
    let names: string[] = [];
    try {
      names = readdirSync(this.o.dir).sort();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT')
        this.o.logger.error('reading the pod manifest path failed', { path: this.o.dir, err: errorText(e) });
    }
    for (const name of names) {
      // Editors' swap and backup files start with a dot; upstream ignores them too.
      if (name.startsWith('.') || !MANIFEST_EXTENSIONS.has(extname(name))) continue;
      const file = join(this.o.dir, name);
      try {
        const st = statSync(file);
        if (!st.isFile()) continue;
        if (st.size > MAX_CONFIG_LENGTH) throw new ManifestError(`${file}: manifest larger than 10MiB`);
        pods.push(...parseManifest(readFileSync(file, 'utf8'), file, this.o.nodeName));
      } catch (e) {
        this.o.logger.error('could not process manifest file', { path: file, err: errorText(e) });
      }
    }
    const now = this.o.clock.now();
    const live = new Set<string>();
    for (const p of pods) {
      const uid = p.metadata?.uid ?? '';
      live.add(uid);
      if (!this.seen.has(uid)) this.seen.set(uid, now);
      const annotations = p.metadata?.annotations ?? {};
      annotations[CONFIG_SEEN_ANNOTATION] = rfc3339Nano(this.seen.get(uid) ?? now);
    }
    for (const uid of [...this.seen.keys()]) if (!live.has(uid)) this.seen.delete(uid);
    return pods;
  }

  private report(): void {
    const pods = this.scan();
    const key = pods
      .map((p) => p.metadata?.uid ?? '')
      .sort()
      .join(',');
    if (key === this.last) return;
    this.last = key;
    this.o.onChange(pods);
  }

  /** Scans now, then on file-system events and every interval until the signal aborts. */
  async run(signal: AbortSignal): Promise<void> {
    this.report();
    try {
      this.watcher = watch(this.o.dir, { persistent: false }, () => this.wake?.());
      this.watcher.on('error', () => {});
    } catch {
      // No directory yet (or no inotify): the periodic rescan still finds it.
    }
    try {
      while (!signal.aborted) {
        await new Promise<void>((resolve) => {
          const done = (): void => {
            timer.cancel();
            signal.removeEventListener('abort', done);
            this.wake = undefined;
            resolve();
          };
          let timer = this.o.clock.setTimeout(done, this.o.intervalMs ?? 5000);
          // Events come in bursts while a file is written: one rescan a little later covers them.
          this.wake = () => {
            timer.cancel();
            timer = this.o.clock.setTimeout(done, 100);
          };
          signal.addEventListener('abort', done, { once: true });
        });
        this.wake = undefined;
        if (signal.aborted) return;
        this.report();
      }
    } finally {
      this.watcher?.close();
    }
  }
}

// Mirror pods (upstream pkg/kubelet/pod/mirror_client.go and the pod manager's static ↔
// mirror translation): the kubelet's static pods, keyed by uid, with the API's mirror pod of
// each found by namespace/name in the kubelet's own pod informer. `ensure` makes the API
// hold exactly one mirror whose hash matches the static pod — creating it when missing,
// replacing it when stale or being deleted — so a mirror deleted with `kubectl delete`
// comes straight back, as upstream's does; `remove` deletes the mirror of a static pod that
// is gone. Creation needs the Node's uid (the mirror's controller owner reference, which
// NodeRestriction checks).

/** Options of the mirror pod manager. */
export interface MirrorPodsOptions {
  client: Client;
  nodeName: string;
  /** The Node's uid ('' while unknown). */
  nodeUid: () => string;
  /** The mirror pod in the kubelet's pod cache, by namespace and name. */
  cached: (namespace: string, name: string) => Pod | undefined;
  logger: Logger;
}

function key(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** The kubelet's static pods and their mirrors. */
export class MirrorPods {
  private readonly statics = new Map<string, Pod>();

  /** A manager writing with `o.client`. */
  constructor(private readonly o: MirrorPodsOptions) {}

  /** Every static pod the kubelet runs now. */
  staticPods(): Pod[] {
    return [...this.statics.values()];
  }

  /** The static pod of a uid, if it is one. */
  get(uid: string): Pod | undefined {
    return this.statics.get(uid);
  }

  /** The static pod a mirror pod stands for (same namespace/name). */
  staticFor(mirror: Pod): Pod | undefined {
    const k = key(mirror);
    return [...this.statics.values()].find((p) => key(p) === k);
  }

  /**
   * Replaces the set of static pods; resolves to those added and those gone (an edited
   * manifest is both: its old uid goes, the new one comes).
   */
  setStaticPods(pods: Pod[]): { added: Pod[]; removed: Pod[] } {
    const next = new Map(pods.map((p) => [p.metadata?.uid ?? '', p]));
    const added = pods.filter((p) => !this.statics.has(p.metadata?.uid ?? ''));
    const removed = [...this.statics.values()].filter((p) => !next.has(p.metadata?.uid ?? ''));
    for (const p of removed) this.statics.delete(p.metadata?.uid ?? '');
    for (const p of added) this.statics.set(p.metadata?.uid ?? '', p);
    return { added, removed };
  }

  /** The current mirror of a static pod (matching hash, not being deleted), if any. */
  mirrorOf(pod: Pod): Pod | undefined {
    const m = this.o.cached(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    if (m === undefined || !this.matches(pod, m)) return undefined;
    return m;
  }

  private matches(pod: Pod, mirror: Pod): boolean {
    return (
      mirror.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] === staticPodHash(pod) &&
      (mirror.metadata?.deletionTimestamp ?? undefined) === undefined
    );
  }

  /** Makes the API hold an up-to-date mirror of `pod`; resolves to it when it exists. */
  async ensure(pod: Pod): Promise<Pod | undefined> {
    if (!isStaticPod(pod)) return undefined;
    const ns = pod.metadata?.namespace ?? '';
    const name = pod.metadata?.name ?? '';
    const existing = this.o.cached(ns, name);
    if (existing !== undefined && this.matches(pod, existing)) return existing;
    if (existing !== undefined) await this.deleteMirror(existing);
    const nodeUid = this.o.nodeUid();
    if (nodeUid === '') return undefined;
    try {
      return await this.o.client.resource(PODS).create(ns, mirrorPodFor(pod, this.o.nodeName, nodeUid));
    } catch (e) {
      // The cache lags behind: the next sync sees the mirror that is already there.
      if (isAlreadyExists(e)) return undefined;
      this.o.logger.error('creating a mirror pod failed', { pod: `${ns}/${name}`, err: errorText(e) });
      return undefined;
    }
  }

  /** Deletes the mirror of a static pod that no longer runs (only one with its hash). */
  async remove(pod: Pod): Promise<void> {
    const m = this.o.cached(pod.metadata?.namespace ?? '', pod.metadata?.name ?? '');
    if (m === undefined) return;
    if (m.metadata?.annotations?.[CONFIG_MIRROR_ANNOTATION] !== staticPodHash(pod)) return;
    await this.deleteMirror(m);
  }

  /** Deletes a mirror pod at once (grace 0: nothing runs behind it but the static pod). */
  async deleteMirror(mirror: Pod): Promise<void> {
    const m = mirror.metadata ?? {};
    try {
      await this.o.client.resource(PODS).delete(m.namespace ?? '', m.name ?? '', {
        gracePeriodSeconds: 0,
        preconditions: { uid: m.uid ?? '' },
      });
    } catch (e) {
      if (isNotFound(e) || isConflict(e)) return;
      this.o.logger.error('deleting a mirror pod failed', { pod: key(mirror), err: errorText(e) });
    }
  }
}
