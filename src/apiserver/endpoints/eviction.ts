// POST pods/<name>/eviction (upstream pkg/registry/core/pod/storage/eviction.go): a delete
// that a PodDisruptionBudget may refuse. The budget is checked and decremented in one
// compare-and-swap of its status, which also records the pod in `disruptedPods`, so two
// concurrent evictions (kubectl drain sends them in parallel) cannot both spend the last
// allowed disruption, and the disruption controller does not count the pod as healthy while
// it terminates. Pods already terminal, pending or deleting cost the budget nothing; an
// unready pod may go when the budget has its healthy pods anyway (IfHealthyBudget) or
// always (AlwaysAllow). The pod first gets the DisruptionTarget condition, as upstream's.
import { labelSelectorAsSelector, type LabelSelector } from '../../machinery/labels/label-selector.js';
import {
  badRequest,
  conflict,
  forbidden,
  isConflict,
  notFound,
  StatusError,
  tooManyRequests,
} from '../../machinery/status-error.js';
import { successStatus, writeObject } from '../http.js';
import type { KObject } from '../registry/object.js';
import { isObject } from '../registry/object.js';
import type { DeleteOpts, Store, WriteOptions } from '../registry/store.js';
import { rfc3339 } from '../registry/store.js';
import { parseWriteOptions, type Scope } from './scope.js';
import { readObject } from './write.js';

type Obj = Record<string, unknown>;

/** Upstream MaxDisruptedPodSize: evictions approved but not yet seen by the PDB controller. */
export const MAX_DISRUPTED_POD_SIZE = 2000;

const EVICTION_REFUSED = "Cannot evict pod as it would violate the pod's disruption budget.";
const PDB_RESOURCE = { group: 'policy', resource: 'poddisruptionbudget' };

function obj(v: unknown): Obj {
  return isObject(v) ? (v as Obj) : {};
}

function num(v: unknown): number {
  return typeof v === 'number' ? v : 0;
}

function phaseOf(pod: KObject): string {
  return String(obj(pod.status).phase ?? '');
}

function isDeleting(pod: KObject): boolean {
  return (pod.metadata?.deletionTimestamp ?? '') !== '';
}

function isPodReady(pod: KObject): boolean {
  const conds = obj(pod.status).conditions;
  return Array.isArray(conds) && conds.some((c) => obj(c).type === 'Ready' && obj(c).status === 'True');
}

// A terminal, pending or already deleting pod causes no (new) disruption.
function canIgnorePDB(pod: KObject): boolean {
  const phase = phaseOf(pod);
  return phase === 'Succeeded' || phase === 'Failed' || phase === 'Pending' || isDeleting(pod);
}

// Guards the delete against the pod turning ready (healthy) after the budget was judged.
function shouldEnforceResourceVersion(pod: KObject): boolean {
  const phase = phaseOf(pod);
  return !(phase === 'Succeeded' || phase === 'Failed' || isDeleting(pod));
}

function tooManyRequestsPending(pdbName: string): StatusError {
  const e = tooManyRequests(EVICTION_REFUSED, 10);
  e.status.details = {
    ...e.status.details,
    causes: [
      {
        reason: 'DisruptionBudget',
        message: `The disruption budget ${pdbName} is still being processed by the server.`,
      },
    ],
  };
  return e;
}

/** The eviction's own delete options (`deleteOptions` in the body) with the request's dry-run folded in. */
function evictionDeleteOptions(body: KObject, dryRunQuery: boolean): { opts: DeleteOpts; dryRun: boolean } {
  const d = obj(body.deleteOptions);
  const opts: DeleteOpts = {};
  if (typeof d.gracePeriodSeconds === 'number') opts.gracePeriodSeconds = d.gracePeriodSeconds;
  if (typeof d.propagationPolicy === 'string')
    opts.propagationPolicy = d.propagationPolicy as DeleteOpts['propagationPolicy'];
  if (typeof d.orphanDependents === 'boolean') opts.orphanDependents = d.orphanDependents;
  if (isObject(d.preconditions)) {
    const p = d.preconditions as Obj;
    opts.preconditions = {
      ...(typeof p.uid === 'string' ? { uid: p.uid } : {}),
      ...(typeof p.resourceVersion === 'string' ? { resourceVersion: p.resourceVersion } : {}),
    };
  }
  const bodyDryRun = Array.isArray(d.dryRun) ? d.dryRun.map(String) : [];
  if (bodyDryRun.length > 0 && dryRunQuery !== bodyDryRun.includes('All')) {
    throw new StatusError({
      reason: 'InternalError',
      code: 500,
      message: `Non-matching dry-run options in request and content: ${dryRunQuery ? '[All]' : '[]'} and [${bodyDryRun.join(' ')}]`,
    });
  }
  return { opts, dryRun: dryRunQuery || bodyDryRun.includes('All') };
}

// The PodDisruptionBudgets of the pod's namespace whose (non-empty) selector matches it.
async function matchingBudgets(pdbs: Store, pod: KObject): Promise<KObject[]> {
  const labels = pod.metadata?.labels ?? {};
  const out: KObject[] = [];
  for (const e of await pdbs.listAll(pod.metadata?.namespace ?? '')) {
    const sel = obj(e.obj.spec).selector as LabelSelector | undefined;
    if (sel === undefined || sel === null) continue;
    let matches = false;
    try {
      const s = labelSelectorAsSelector(sel);
      matches = !s.empty() && s.matches(labels);
    } catch {
      // An invalid selector matches no pod.
    }
    if (matches) out.push(e.obj);
  }
  return out;
}

// Sets DisruptionAllowed as upstream's UpdateDisruptionAllowedCondition (metav1 SetStatusCondition).
function updateDisruptionAllowedCondition(status: Obj, now: Date): void {
  const allowed = num(status.disruptionsAllowed) > 0;
  const want = {
    type: 'DisruptionAllowed',
    status: allowed ? 'True' : 'False',
    reason: allowed ? 'SufficientPods' : 'InsufficientPods',
    message: '',
    observedGeneration: num(status.observedGeneration),
  };
  const conds = Array.isArray(status.conditions) ? (status.conditions as Obj[]) : [];
  const cur = conds.find((c) => c.type === want.type);
  if (cur === undefined) {
    status.conditions = [...conds, { ...want, lastTransitionTime: rfc3339(now) }];
    return;
  }
  if (cur.status !== want.status) cur.lastTransitionTime = rfc3339(now);
  Object.assign(cur, want);
}

// Spends one disruption of the budget, recording the pod in disruptedPods (upstream checkAndDecrement).
async function checkAndDecrement(
  pdbs: Store,
  pdb: KObject,
  podName: string,
  dryRun: boolean,
  now: Date,
): Promise<void> {
  const ns = pdb.metadata?.namespace ?? '';
  const name = pdb.metadata?.name ?? '';
  const check = (cur: KObject): Obj => {
    const st = obj(cur.status);
    if (num(st.observedGeneration) < num(cur.metadata?.generation)) throw tooManyRequestsPending(name);
    const allowed = num(st.disruptionsAllowed);
    if (allowed < 0) throw forbidden(PDB_RESOURCE, name, 'pdb disruptions allowed is negative');
    if (Object.keys(obj(st.disruptedPods)).length > MAX_DISRUPTED_POD_SIZE) {
      throw forbidden(
        PDB_RESOURCE,
        name,
        'DisruptedPods map too big - too many evictions not confirmed by PDB controller',
      );
    }
    if (allowed === 0) {
      const e = tooManyRequests(EVICTION_REFUSED, 0);
      e.status.details = {
        causes: [
          {
            reason: 'DisruptionBudget',
            message: `The disruption budget ${name} needs ${num(st.desiredHealthy)} healthy pods and has ${num(st.currentHealthy)} currently`,
          },
        ],
      };
      throw e;
    }
    return st;
  };
  if (dryRun) {
    check(pdb);
    return;
  }
  const wo: WriteOptions = {
    dryRun: false,
    fieldManager: 'kube-apiserver',
    subresource: 'status',
    warnings: [],
  };
  await pdbs.guaranteedUpdate(
    ns,
    name,
    wo,
    (cur) => {
      if (cur === undefined) throw tooManyRequestsPending(name);
      const st = check(cur);
      st.disruptionsAllowed = num(st.disruptionsAllowed) - 1;
      if (st.disruptionsAllowed === 0) updateDisruptionAllowedCondition(st, now);
      st.disruptedPods = { ...obj(st.disruptedPods), [podName]: rfc3339(now) };
      cur.status = st;
      return cur;
    },
    { mode: 'status' },
  );
}

// Marks the pod DisruptionTarget (reason EvictionByEvictionAPI), then deletes it.
async function addConditionAndDeletePod(s: Scope, opts: DeleteOpts, dryRun: boolean): Promise<void> {
  const wo = parseWriteOptions(s);
  wo.dryRun = dryRun;
  if (!dryRun) {
    const statusWO: WriteOptions = {
      dryRun: false,
      fieldManager: 'kube-apiserver',
      subresource: 'status',
      warnings: [],
    };
    const r = await s.store.guaranteedUpdate(
      s.info.namespace,
      s.info.name,
      statusWO,
      (cur) => {
        if (cur === undefined) throw notFound(s.store.gr, s.info.name);
        const pre = opts.preconditions?.resourceVersion;
        // The precondition speaks of the pod as it was before our condition.
        if (pre !== undefined && cur.metadata?.resourceVersion !== pre) {
          throw conflict(
            s.store.gr,
            s.info.name,
            `Precondition failed: ResourceVersion in precondition: ${pre}, ResourceVersion in object meta: ${cur.metadata?.resourceVersion ?? ''}`,
          );
        }
        const st = obj(cur.status);
        const conds = Array.isArray(st.conditions) ? (st.conditions as Obj[]) : [];
        const want = {
          type: 'DisruptionTarget',
          status: 'True',
          reason: 'EvictionByEvictionAPI',
          message: 'Eviction API: evicting',
        };
        const old = conds.find((c) => c.type === want.type);
        if (old === undefined)
          conds.push({ ...want, lastProbeTime: null, lastTransitionTime: rfc3339(s.now) });
        else {
          if (old.status !== want.status) old.lastTransitionTime = rfc3339(s.now);
          Object.assign(old, want);
        }
        st.conditions = conds;
        cur.status = st;
        return cur;
      },
      { mode: 'status' },
    );
    if (opts.preconditions?.resourceVersion !== undefined) {
      // We made the newer version ourselves, so the delete must expect it.
      opts = {
        ...opts,
        preconditions: { ...opts.preconditions, resourceVersion: r.obj.metadata?.resourceVersion ?? '' },
      };
    }
  }
  await s.store.delete(s.info.namespace, s.info.name, opts, wo);
}

/** POST pods/<name>/eviction: deletes the pod unless a PodDisruptionBudget forbids it. */
export async function handleEviction(s: Scope, pdbs: Store | undefined): Promise<void> {
  const { obj: body } = await readObject(s);
  if ((body.metadata?.name ?? '') !== s.info.name) {
    throw badRequest('name in URL does not match name in Eviction object');
  }
  const { opts: original, dryRun } = evictionDeleteOptions(body, parseWriteOptions(s).dryRun);
  const callerRV = original.preconditions?.resourceVersion !== undefined;
  const pod = await s.store.get(s.info.namespace, s.info.name);
  const withRV = (rv: string | undefined): DeleteOpts =>
    callerRV || rv === undefined
      ? original
      : { ...original, preconditions: { ...original.preconditions, resourceVersion: rv } };

  if (canIgnorePDB(pod)) {
    await addConditionAndDeletePod(
      s,
      withRV(shouldEnforceResourceVersion(pod) ? pod.metadata?.resourceVersion : undefined),
      dryRun,
    );
    writeObject(s.res, 201, { ...successStatus(), code: 201 });
    return;
  }
  let enforceRV = false;
  let pdbName = '';
  if (pdbs !== undefined) {
    const budgets = await matchingBudgets(pdbs, pod);
    if (budgets.length > 1) {
      throw new StatusError({
        code: 500,
        message:
          'This pod has more than one PodDisruptionBudget, which the eviction subresource does not support.',
      });
    }
    const pdb = budgets[0];
    if (pdb !== undefined) {
      pdbName = pdb.metadata?.name ?? '';
      const st = obj(pdb.status);
      const policy = obj(pdb.spec).unhealthyPodEvictionPolicy;
      const healthyEnough = num(st.currentHealthy) >= num(st.desiredHealthy) && num(st.desiredHealthy) > 0;
      // An unready pod is not healthy: evicting it spends no disruption of the budget.
      if (!isPodReady(pod) && (policy === 'AlwaysAllow' || healthyEnough)) enforceRV = true;
      else await checkAndDecrement(pdbs, pdb, s.info.name, dryRun, s.now);
    }
  }
  try {
    await addConditionAndDeletePod(s, enforceRV ? withRV(pod.metadata?.resourceVersion) : original, dryRun);
  } catch (e) {
    // The pod changed (it may be ready now) since the budget was judged: the client retries.
    if (isConflict(e) && enforceRV && !callerRV) throw tooManyRequestsPending(pdbName);
    throw e;
  }
  writeObject(s.res, 201, { ...successStatus(), code: 201 });
}
