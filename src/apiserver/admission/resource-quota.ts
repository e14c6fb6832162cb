// ResourceQuota (upstream plugin/pkg/admission/resourcequota): refuses a create or update
// that would take a namespace past one of its quotas. Usage is counted here, at admission
// time, from the API server's own watch caches (the quota controller's status may lag), and
// the decision plus a reservation happen under one per-namespace lock, so two racing
// requests on this API server can never both take the last unit. A reservation lasts until
// the object shows up in the cache (or a short timeout, for writes that failed later on).
// Quota status is left to the quota controller.
import type { Container, Pod, ResourceQuota } from '../../api/generated/types/core-v1.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { denied, listObjects, sortStrings } from './attributes.js';
import {
  addUsage,
  chargesFor,
  isZeroUsage,
  objectUsage,
  prettyPrint,
  quotaMatches,
  subtractNonNegative,
  type Usage,
  usageOf,
} from './quota-usage.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { Quantity } from '../../machinery/quantity.js';

/** Options of the ResourceQuota plugin. */
export interface ResourceQuotaOptions {
  /** How long a reservation outlives its request when the object never appears, ms. Default 30 s. */
  reservationTtlMs?: number;
  clock?: () => Date;
}

interface Reservation {
  group: string;
  plural: string;
  namespace: string;
  name: string;
  /** For updates: the resourceVersion the update replaces (reservation ends when it changes). */
  oldResourceVersion?: string;
  usage: Usage;
  expires: number;
}

// Requests for cpu or memory in a quota oblige every container to state them (an old
// upstream rule kept for compatibility).
const VALIDATION_SET = new Set([
  'cpu',
  'memory',
  'requests.cpu',
  'requests.memory',
  'limits.cpu',
  'limits.memory',
]);

function containerResourceNames(c: Container): Set<string> {
  const out = new Set<string>();
  const req = c.resources?.requests ?? {};
  const lim = c.resources?.limits ?? {};
  for (const r of ['cpu', 'memory']) {
    if (r in req) {
      out.add(r);
      out.add(`requests.${r}`);
    }
    if (r in lim) out.add(`limits.${r}`);
  }
  return out;
}

/** Upstream podEvaluator.Constraints: the containers that leave a quota-tracked resource unset. */
export function podConstraints(required: string[], pod: Pod): string | undefined {
  const req = required.filter((r) => VALIDATION_SET.has(r));
  if (req.length === 0) return undefined;
  const missing = new Map<string, Set<string>>();
  for (const c of [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])]) {
    const have = containerResourceNames(c);
    for (const r of req) {
      if (!have.has(r)) {
        const s = missing.get(r) ?? new Set<string>();
        s.add(c.name);
        missing.set(r, s);
      }
    }
  }
  if (missing.size === 0) return undefined;
  const parts = sortStrings(missing.keys()).map((r) => `${r} for: ${sortStrings(missing.get(r)!).join(',')}`);
  return `must specify ${parts.join('; ')}`;
}

/** A promise chain per key: callers run one at a time. */
class KeyedLock {
  private readonly tails = new Map<string, Promise<void>>();

  async run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    let release!: () => void;
    const next = new Promise<void>((r) => {
      release = r;
    });
    const tail = prev.then(() => next);
    this.tails.set(key, tail);
    await prev;
    try {
      return await fn();
    } finally {
      release();
      if (this.tails.get(key) === tail) this.tails.delete(key);
    }
  }
}

function mask(u: Usage, names: Iterable<string>): Usage {
  const out: Usage = new Map();
  for (const n of names) {
    const v = u.get(n);
    if (v !== undefined) out.set(n, v);
  }
  return out;
}

/** The ResourceQuota plugin. */
export function resourceQuotaAdmission(
  stores: StoreRegistry,
  opts: ResourceQuotaOptions = {},
): AdmissionPlugin {
  const ttl = opts.reservationTtlMs ?? 30_000;
  const clock = opts.clock ?? (() => new Date());
  const lock = new KeyedLock();
  let reservations: Reservation[] = [];

  /** Current usage of group/plural in a namespace by objects matching `quota`, with reservations. */
  function usageFor(
    quota: ResourceQuota,
    group: string,
    plural: string,
    objects: KObject[],
    now: Date,
  ): Usage {
    const total: Usage = new Map();
    for (const o of objects)
      if (quotaMatches(quota, group, plural, o)) addUsage(total, objectUsage(group, plural, o, now));
    return total;
  }

  function liveReservations(
    ns: string,
    group: string,
    plural: string,
    objects: KObject[],
    now: number,
  ): Reservation[] {
    const byName = new Map(objects.map((o) => [o.metadata?.name ?? '', o]));
    reservations = reservations.filter((r) => {
      if (r.expires < now) return false;
      if (r.namespace !== ns || r.group !== group || r.plural !== plural) return true;
      const seen = byName.get(r.name);
      if (!seen) return r.oldResourceVersion === undefined;
      // The write landed: the cache now carries what the reservation stood for.
      if (r.oldResourceVersion === undefined) return false;
      return seen.metadata?.resourceVersion === r.oldResourceVersion;
    });
    return reservations.filter((r) => r.namespace === ns && r.group === group && r.plural === plural);
  }

  async function check(req: AdmissionRequest): Promise<void> {
    const obj = req.object;
    if (!obj) return;
    const { group, plural } = req.resource;
    const quotas = (await listObjects(
      stores,
      '',
      'resourcequotas',
      req.namespace,
    )) as unknown as ResourceQuota[];
    if (quotas.length === 0) return;
    const now = clock();
    const relevant: Array<{ quota: ResourceQuota; hard: Usage; names: string[] }> = [];
    for (const quota of quotas) {
      const hard = usageOf(quota.spec?.hard);
      const names = [...hard.keys()].filter((n) => chargesFor(group, plural, n));
      if (names.length === 0 || !quotaMatches(quota, group, plural, obj)) continue;
      if (group === '' && plural === 'pods') {
        const why = podConstraints(names, obj as unknown as Pod);
        if (why) throw denied(req, `failed quota: ${quota.metadata?.name ?? ''}: ${why}`);
      }
      relevant.push({ quota, hard, names });
    }
    if (relevant.length === 0) return;
    let delta = objectUsage(group, plural, obj, now);
    const negative = [...delta].filter(([, v]) => v.sign() < 0).map(([k]) => k);
    if (negative.length > 0) {
      throw denied(req, `quota usage is negative for resource(s): ${sortStrings(negative).join(',')}`);
    }
    const old = req.oldObject;
    if (req.operation === 'UPDATE' && old?.metadata?.resourceVersion) {
      delta = subtractNonNegative(delta, objectUsage(group, plural, old, now));
    }
    if (isZeroUsage(delta)) return;
    const objects = await listObjects(stores, group, plural, req.namespace);
    const pending = liveReservations(req.namespace, group, plural, objects, now.getTime());
    for (const { quota, hard, names } of relevant) {
      const used = usageFor(quota, group, plural, objects, now);
      for (const r of pending) addUsage(used, r.usage);
      for (const n of names) if (!used.has(n)) used.set(n, Quantity.of(0));
      const requested = mask(delta, names);
      const exceeded: string[] = [];
      for (const [k, v] of requested) {
        const limit = hard.get(k);
        if (limit && (used.get(k) ?? Quantity.of(0)).add(v).cmp(limit) > 0) exceeded.push(k);
      }
      if (exceeded.length > 0) {
        throw denied(
          req,
          `exceeded quota: ${quota.metadata?.name ?? ''}, requested: ${prettyPrint(mask(requested, exceeded))}, used: ${prettyPrint(mask(used, exceeded))}, limited: ${prettyPrint(mask(hard, exceeded))}`,
        );
      }
    }
    if (req.dryRun) return;
    reservations.push({
      group,
      plural,
      namespace: req.namespace,
      name: obj.metadata?.name ?? req.name,
      ...(req.operation === 'UPDATE' && old?.metadata?.resourceVersion
        ? { oldResourceVersion: old.metadata.resourceVersion }
        : {}),
      usage: delta,
      expires: now.getTime() + ttl,
    });
  }

  return {
    name: 'ResourceQuota',
    async validate(req: AdmissionRequest): Promise<void> {
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      if (req.subresource !== '' || !req.resource.namespaced || req.namespace === '') return;
      // Updates change usage only for objects whose usage depends on their spec.
      if (
        req.operation === 'UPDATE' &&
        !(
          req.resource.group === '' &&
          ['pods', 'services', 'persistentvolumeclaims'].includes(req.resource.plural)
        )
      ) {
        return;
      }
      await lock.run(req.namespace, () => check(req));
    },
    close(): void {
      reservations = [];
    },
  };
}
