// DefaultPreemption (PostFilter): when no node fits, find nodes where evicting pods of lower
// priority would make room. For each candidate node it removes every lower-priority pod
// (dry run on a copy), checks the pod fits, then gives pods back most-important first —
// those whose eviction would violate a PodDisruptionBudget first — keeping each one that
// still leaves room. The node is chosen by upstream's ordering: fewest PDB violations, lowest
// highest-victim priority, lowest priority sum, fewest victims, latest start of the highest-
// priority victims. Victims are deleted through the client and the pod is nominated there.

import type { Pod, PodCondition } from '../../../api/generated/types/core-v1.js';
import type { PodDisruptionBudget } from '../../../api/generated/types/policy-v1.js';
import { labelSelectorAsSelector } from '../../../machinery/labels/label-selector.js';
import type { CycleState } from '../../framework/cycle-state.js';
import { fitErrorMessage, NodeStatusMap } from '../../framework/fit-error.js';
import type {
  Handle,
  NodeToStatus,
  Plugin,
  PostFilterPlugin,
  PostFilterResult,
} from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { type PodInfo, podPriority } from '../../framework/pod-info.js';
import { Code, isSuccess, type PluginStatus, Status } from '../../framework/status.js';
import { argsObject } from '../helpers/normalize.js';

/** The upstream plugin name. */
export const NAME = 'DefaultPreemption';
/** Upstream's per-node reason when nothing of lower priority runs there. */
export const NO_VICTIMS = 'No preemption victims found for incoming pod';
/** Upstream's reason for nodes where preemption cannot help. */
export const NOT_HELPFUL = 'Preemption is not helpful for scheduling';

/** DefaultPreemptionArgs. */
export interface DefaultPreemptionArgs {
  minCandidateNodesPercentage?: number;
  minCandidateNodesAbsolute?: number;
}

/** A node where preemption would work, with its victims (most important first). */
export interface Candidate {
  nodeName: string;
  victims: PodInfo[];
  numPDBViolations: number;
}

type PostFilterReturn = { result: PostFilterResult | undefined; status: PluginStatus };

function startTime(p: Pod): number {
  const t = p.status?.startTime;
  return t === undefined ? Number.MAX_SAFE_INTEGER : Date.parse(t);
}

/** Upstream's MoreImportantPod: higher priority, then earlier start. */
export function moreImportantPod(a: Pod, b: Pod): boolean {
  const pa = podPriority(a);
  const pb = podPriority(b);
  if (pa !== pb) return pa > pb;
  return startTime(a) < startTime(b);
}

function sortByImportance(list: PodInfo[]): void {
  list.sort((x, y) => (moreImportantPod(x.pod, y.pod) ? -1 : moreImportantPod(y.pod, x.pod) ? 1 : 0));
}

/** Splits pods into those whose eviction would violate a PDB and the rest (upstream's filterPodsWithPDBViolation). */
export function filterPodsWithPDBViolation(
  pods: readonly PodInfo[],
  pdbs: readonly PodDisruptionBudget[],
): { violating: PodInfo[]; nonViolating: PodInfo[] } {
  const allowed = pdbs.map((p) => p.status?.disruptionsAllowed ?? 0);
  const violating: PodInfo[] = [];
  const nonViolating: PodInfo[] = [];
  for (const pi of pods) {
    const labels = pi.pod.metadata?.labels;
    let violated = false;
    if (labels !== undefined && Object.keys(labels).length > 0) {
      pdbs.forEach((pdb, i) => {
        if ((pdb.metadata?.namespace ?? '') !== (pi.pod.metadata?.namespace ?? '')) return;
        let matches = false;
        try {
          const sel = labelSelectorAsSelector(pdb.spec?.selector);
          matches = !sel.empty() && sel.matches(labels);
        } catch {
          matches = false;
        }
        if (!matches) return;
        if (pdb.status?.disruptedPods?.[pi.pod.metadata?.name ?? ''] !== undefined) return;
        allowed[i] = (allowed[i] as number) - 1;
        if ((allowed[i] as number) < 0) violated = true;
      });
    }
    (violated ? violating : nonViolating).push(pi);
  }
  return { violating, nonViolating };
}

/** Picks the best candidate by upstream's ordered criteria. */
export function pickOneNodeForPreemption(candidates: readonly Candidate[]): Candidate | undefined {
  if (candidates.length === 0) return undefined;
  const criteria: ((c: Candidate) => number)[] = [
    (c) => -c.numPDBViolations,
    (c) => -(c.victims.length > 0 ? podPriority((c.victims[0] as PodInfo).pod) : Number.MIN_SAFE_INTEGER),
    (c) => -c.victims.reduce((s, v) => s + podPriority(v.pod) + 2147483648, 0),
    (c) => -c.victims.length,
    (c) => {
      // The earliest start among the highest-priority victims; later is better.
      if (c.victims.length === 0) return Number.MAX_SAFE_INTEGER;
      const top = podPriority((c.victims[0] as PodInfo).pod);
      let earliest = Number.MAX_SAFE_INTEGER;
      for (const v of c.victims)
        if (podPriority(v.pod) === top) earliest = Math.min(earliest, startTime(v.pod));
      return earliest;
    },
  ];
  let pool = candidates.slice();
  for (const f of criteria) {
    let best = Number.NEGATIVE_INFINITY;
    let next: Candidate[] = [];
    for (const c of pool) {
      const s = f(c);
      if (s > best) {
        best = s;
        next = [c];
      } else if (s === best) next.push(c);
    }
    pool = next;
    if (pool.length === 1) break;
  }
  return pool[0];
}

/** Preemption. */
export class DefaultPreemption implements PostFilterPlugin {
  readonly name = NAME;
  private readonly minPct: number;
  private readonly minAbs: number;

  /** A plugin with its args (10% / 100 candidates by default). */
  constructor(
    private readonly handle: Handle,
    args: DefaultPreemptionArgs = {},
  ) {
    this.minPct = args.minCandidateNodesPercentage ?? 10;
    this.minAbs = args.minCandidateNodesAbsolute ?? 100;
  }

  async postFilter(state: CycleState, pod: Pod, m: NodeToStatus): Promise<PostFilterReturn> {
    const r = await this.preempt(state, pod, m);
    const msg = r.status?.message() ?? '';
    if (r.status !== null && msg !== '')
      return { result: r.result, status: new Status(r.status.code, [`preemption: ${msg}`]) };
    return r;
  }

  /** Upstream's Evaluator.Preempt. */
  async preempt(state: CycleState, pod: Pod, m: NodeToStatus): Promise<PostFilterReturn> {
    const eligible = this.eligible(pod, m);
    if (eligible !== undefined)
      return { result: undefined, status: new Status(Code.Unschedulable, [eligible]) };
    const all = this.handle.snapshot().nodeInfoList;
    const potential = all.filter(
      (ni) => (m.statuses.get(ni.name) ?? m.absentStatus).code !== Code.UnschedulableAndUnresolvable,
    );
    const statuses = new NodeStatusMap();
    statuses.absentStatus = new Status(Code.UnschedulableAndUnresolvable, [NOT_HELPFUL]);
    const candidates: Candidate[] = [];
    if (potential.length > 0) {
      const pdbs = this.handle.listers.pdbs();
      let n = Math.trunc((potential.length * this.minPct) / 100);
      if (n < this.minAbs) n = this.minAbs;
      if (n > potential.length) n = potential.length;
      for (const ni of potential) {
        const copy = ni.clone();
        const st = state.clone();
        const res = this.selectVictimsOnNode(st, pod, copy, pdbs);
        if (res instanceof Status) statuses.set(ni.name, res);
        else if (res.victims.length > 0) {
          candidates.push({ nodeName: ni.name, victims: res.victims, numPDBViolations: res.numViolating });
          if (candidates.length >= n) break;
        }
      }
    }
    if (candidates.length === 0) {
      return {
        result: { nominatedNodeName: '' },
        status: new Status(Code.Unschedulable, [
          fitErrorMessage(all.length, { nodeToStatus: statuses, preFilterMsg: '', postFilterMsg: '' }),
        ]),
      };
    }
    const best = pickOneNodeForPreemption(candidates) as Candidate;
    await this.prepareCandidate(best, pod);
    return { result: { nominatedNodeName: best.nodeName }, status: null };
  }

  /** Why the pod may not preempt, or undefined when it may (upstream's PodEligibleToPreemptOthers). */
  private eligible(pod: Pod, m: NodeToStatus): string | undefined {
    if (pod.spec?.preemptionPolicy === 'Never') return 'not eligible due to preemptionPolicy=Never.';
    const nom = pod.status?.nominatedNodeName;
    if (nom !== undefined && nom !== '') {
      if ((m.statuses.get(nom) ?? m.absentStatus).code === Code.UnschedulableAndUnresolvable)
        return undefined;
      const ni = this.handle.snapshot().get(nom);
      if (ni !== undefined) {
        const prio = podPriority(pod);
        for (const p of ni.pods) {
          if (podPriority(p.pod) < prio && p.pod.metadata?.deletionTimestamp !== undefined) {
            return 'not eligible due to a terminating pod on the nominated node.';
          }
        }
      }
    }
    return undefined;
  }

  /** Finds the minimal victims on one node (a copy); a Status when preemption cannot help there. */
  selectVictimsOnNode(
    state: CycleState,
    pod: Pod,
    ni: NodeInfo,
    pdbs: readonly PodDisruptionBudget[],
  ): { victims: PodInfo[]; numViolating: number } | Status {
    const fwk = this.handle.framework();
    const nominated = this.handle.nominator.nominatedPodsForNode(ni.name);
    const remove = (pi: PodInfo): PluginStatus => {
      ni.removePod(pi.key);
      return fwk.runPreFilterExtensionRemovePod(state, pod, pi, ni);
    };
    const add = (pi: PodInfo): PluginStatus => {
      ni.addPod(pi);
      return fwk.runPreFilterExtensionAddPod(state, pod, pi, ni);
    };
    const prio = podPriority(pod);
    const potential: PodInfo[] = [];
    for (const pi of ni.pods.slice()) {
      if (podPriority(pi.pod) < prio) {
        potential.push(pi);
        const s = remove(pi);
        if (!isSuccess(s)) return s as Status;
      }
    }
    if (potential.length === 0) return new Status(Code.UnschedulableAndUnresolvable, [NO_VICTIMS]);
    const fits = fwk.runFilterPluginsWithNominatedPods(state, pod, ni, nominated);
    if (!isSuccess(fits)) return fits as Status;
    sortByImportance(potential);
    const { violating, nonViolating } = filterPodsWithPDBViolation(potential, pdbs);
    const victims: PodInfo[] = [];
    let numViolating = 0;
    const reprieve = (pi: PodInfo): boolean => {
      add(pi);
      const s = fwk.runFilterPluginsWithNominatedPods(state, pod, ni, nominated);
      if (isSuccess(s)) return false;
      remove(pi);
      victims.push(pi);
      return true;
    };
    for (const pi of violating) if (reprieve(pi)) numViolating++;
    for (const pi of nonViolating) reprieve(pi);
    if (violating.length > 0 && nonViolating.length > 0) sortByImportance(victims);
    return { victims, numViolating };
  }

  private async prepareCandidate(c: Candidate, pod: Pod): Promise<void> {
    const client = this.handle.client;
    const fwkName = this.handle.framework().profileName;
    const cond: PodCondition = {
      type: 'DisruptionTarget',
      status: 'True',
      reason: 'PreemptionByScheduler',
      message: `${fwkName}: preempting to accommodate a higher priority pod`,
      lastTransitionTime: new Date(this.handle.now()).toISOString().replace(/\.\d{3}Z$/, 'Z'),
    };
    await Promise.all(
      c.victims.map(async (v) => {
        try {
          await client.updatePodCondition(v.pod, cond);
        } catch {
          // The condition is informational; the deletion below is what matters.
        }
        await client.deletePod(v.pod);
        client.recordEvent(
          v.pod,
          'Normal',
          'Preempted',
          `Preempted by pod ${pod.metadata?.uid ?? ''} on node ${c.nodeName}`,
        );
      }),
    );
    // Lower-priority pods nominated to this node lose their claim: the room is now this pod's.
    const prio = podPriority(pod);
    for (const p of this.handle.nominator.nominatedPodsForNode(c.nodeName).slice()) {
      if (podPriority(p.pod) >= prio) continue;
      this.handle.nominator.deleteNominatedPodIfExists(p.pod);
      try {
        await client.setNominatedNodeName(p.pod, '');
      } catch {
        // Best effort, as upstream: the pod will be re-evaluated anyway.
      }
    }
  }
}

/** Factory for the registry. */
export function newDefaultPreemption(args: unknown, handle: Handle): Plugin {
  return new DefaultPreemption(handle, argsObject(args) as DefaultPreemptionArgs);
}
