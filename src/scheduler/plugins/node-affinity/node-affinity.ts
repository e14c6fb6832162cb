// NodeAffinity: spec.nodeSelector and required node affinity as a Filter (with a PreFilter
// that narrows to named nodes for `matchFields metadata.name In`), preferred node affinity
// as a Score, plus the profile-wide addedAffinity from NodeAffinityArgs.

import type {
  NodeAffinity as NodeAffinitySpec,
  Pod,
  PreferredSchedulingTerm,
} from '../../../api/generated/types/core-v1.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { readState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  NodeScore,
  Plugin,
  PreFilterPlugin,
  PreFilterReturn,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Code, type PluginStatus, SKIP, Status } from '../../framework/status.js';
import { argsObject, defaultNormalizeScore } from '../helpers/normalize.js';
import { nodeSelectorMatches, preferredTermsScore, RequiredNodeAffinity } from '../helpers/node-selector.js';

/** The upstream plugin name. */
export const NAME = 'NodeAffinity';
/** Upstream's reason for a node failing the pod's selector/affinity. */
export const ERR_REASON_POD = "node(s) didn't match Pod's node affinity/selector";
/** Upstream's reason for a node failing the profile's addedAffinity. */
export const ERR_REASON_ENFORCED = "node(s) didn't match scheduler-enforced node affinity";
/** Upstream's reason when the matchFields terms contradict each other. */
export const ERR_REASON_CONFLICT = 'pod affinity terms conflict';

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const PRE_SCORE_KEY = `PreScore${NAME}`;

/** NodeAffinityArgs. */
export interface NodeAffinityArgs {
  addedAffinity?: NodeAffinitySpec;
}

class PreFilterState implements StateData {
  constructor(readonly required: RequiredNodeAffinity) {}
  clone(): StateData {
    return this;
  }
}

class PreScoreState implements StateData {
  constructor(readonly terms: readonly PreferredSchedulingTerm[]) {}
  clone(): StateData {
    return this;
  }
}

const REJECT_POD = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_POD]);
const REJECT_ENFORCED = new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_ENFORCED]);

/** Node selector and node affinity. */
export class NodeAffinity
  implements PreFilterPlugin, FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions
{
  readonly name = NAME;
  private readonly added: NodeAffinitySpec | undefined;

  /** A plugin with optional addedAffinity. */
  constructor(args: NodeAffinityArgs = {}) {
    this.added = args.addedAffinity;
  }

  preFilter(state: CycleState, pod: Pod): PreFilterReturn {
    const required = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution;
    const hasSelector = pod.spec?.nodeSelector !== undefined;
    if (
      required === undefined &&
      this.added?.requiredDuringSchedulingIgnoredDuringExecution === undefined &&
      !hasSelector
    ) {
      return SKIP;
    }
    state.write(PRE_FILTER_KEY, new PreFilterState(new RequiredNodeAffinity(pod)));
    const terms = required?.nodeSelectorTerms ?? [];
    if (terms.length === 0) return null;
    let names: Set<string> | undefined;
    for (const t of terms) {
      let termNames: Set<string> | undefined;
      for (const r of t.matchFields ?? []) {
        if (r.key !== 'metadata.name' || r.operator !== 'In') continue;
        const s = new Set(r.values ?? []);
        termNames = termNames === undefined ? s : new Set([...termNames].filter((n) => s.has(n)));
      }
      // A term without a name constraint admits every node: the terms are ORed.
      if (termNames === undefined) return null;
      names = names === undefined ? termNames : new Set([...names, ...termNames]);
    }
    if (names !== undefined && names.size === 0) {
      return new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_CONFLICT]);
    }
    return names === undefined ? null : { result: { nodeNames: names }, status: null };
  }

  filter(state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const node = nodeInfo.node;
    if (node === undefined) return new Status(Code.Error, ['node not found']);
    const addedReq = this.added?.requiredDuringSchedulingIgnoredDuringExecution;
    if (addedReq !== undefined && !nodeSelectorMatches(addedReq, node)) return REJECT_ENFORCED;
    const req = readState(state, PRE_FILTER_KEY, PreFilterState)?.required ?? new RequiredNodeAffinity(pod);
    return req.match(node) ? null : REJECT_POD;
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    const terms = [
      ...(this.added?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
      ...(pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []),
    ];
    if (terms.length === 0) return SKIP;
    state.write(PRE_SCORE_KEY, new PreScoreState(terms));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const node = nodeInfo.node;
    if (node === undefined) return 0;
    const terms =
      readState(state, PRE_SCORE_KEY, PreScoreState)?.terms ??
      pod.spec?.affinity?.nodeAffinity?.preferredDuringSchedulingIgnoredDuringExecution ??
      [];
    return preferredTermsScore(terms, node);
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): PluginStatus {
    defaultNormalizeScore(scores, false);
    return null;
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel }];
  }
}

/** Factory for the registry. */
export function newNodeAffinity(args: unknown): Plugin {
  return new NodeAffinity(argsObject(args) as NodeAffinityArgs);
}
