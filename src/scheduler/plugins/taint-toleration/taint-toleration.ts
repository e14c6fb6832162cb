// TaintToleration: Filter rejects nodes with a NoSchedule/NoExecute taint the pod does not
// tolerate; Score counts the PreferNoSchedule taints it does not tolerate, and the
// normalization reverses it so fewer intolerable taints score higher.

import type { Pod, Toleration } from '../../../api/generated/types/core-v1.js';
import { type CycleState, type StateData, StateCache } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  NodeScore,
  Plugin,
  PreScorePlugin,
  ScoreExtensions,
  ScorePlugin,
} from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { Code, newStatus, type PluginStatus } from '../../framework/status.js';
import { defaultNormalizeScore } from '../helpers/normalize.js';
import {
  findMatchingUntoleratedTaint,
  isScheduleBlockingTaint,
  tolerationsTolerateTaint,
} from '../helpers/taints.js';

/** The upstream plugin name. */
export const NAME = 'TaintToleration';
const PRE_SCORE_KEY = `PreScore${NAME}`;

class PreScoreState implements StateData {
  constructor(readonly tolerations: readonly Toleration[]) {}
  clone(): StateData {
    return this;
  }
}

/** Filters on hard taints, scores on soft ones. */
export class TaintToleration
  implements FilterPlugin, PreScorePlugin, ScorePlugin, ScoreExtensions, EnqueueExtensions
{
  readonly name = NAME;
  private readonly preScoreState = new StateCache(PRE_SCORE_KEY, PreScoreState);

  filter(_state: CycleState, pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return null;
    const t = findMatchingUntoleratedTaint(taints, pod.spec?.tolerations, isScheduleBlockingTaint);
    if (t === undefined) return null;
    return newStatus(
      Code.UnschedulableAndUnresolvable,
      `node(s) had untolerated taint {${t.key}: ${t.value ?? ''}}`,
    );
  }

  preScore(state: CycleState, pod: Pod): PluginStatus {
    const tols = (pod.spec?.tolerations ?? []).filter(
      (t) => t.effect === undefined || t.effect === '' || t.effect === 'PreferNoSchedule',
    );
    state.write(PRE_SCORE_KEY, new PreScoreState(tols));
    return null;
  }

  score(state: CycleState, pod: Pod, nodeInfo: NodeInfo): number {
    const taints = nodeInfo.taints;
    if (taints.length === 0) return 0;
    const tols = this.preScoreState.read(state)?.tolerations ?? pod.spec?.tolerations ?? [];
    let n = 0;
    for (const t of taints) if (t.effect === 'PreferNoSchedule' && !tolerationsTolerateTaint(tols, t)) n++;
    return n;
  }

  scoreExtensions(): ScoreExtensions {
    return this;
  }

  normalizeScore(_state: CycleState, _pod: Pod, scores: NodeScore[]): PluginStatus {
    defaultNormalizeScore(scores, true);
    return null;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeTaint },
      { resource: 'UnschedulablePod', actionType: ActionType.UpdatePodTolerations },
    ];
  }
}

/** Factory for the registry. */
export function newTaintToleration(): Plugin {
  return new TaintToleration();
}
