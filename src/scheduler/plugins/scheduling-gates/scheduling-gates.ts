// SchedulingGates: a pod with spec.schedulingGates stays out of activeQ until the gates are
// removed (only an update of the pod itself can do that).

import type { Pod } from '../../../api/generated/types/core-v1.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type { EnqueueExtensions, Plugin, PreEnqueuePlugin } from '../../framework/interfaces.js';
import { Code, newStatus, type PluginStatus } from '../../framework/status.js';

/** The upstream plugin name. */
export const NAME = 'SchedulingGates';

/** Gates pods with scheduling gates. */
export class SchedulingGates implements PreEnqueuePlugin, EnqueueExtensions {
  readonly name = NAME;

  preEnqueue(pod: Pod): PluginStatus {
    const gates = pod.spec?.schedulingGates ?? [];
    if (gates.length === 0) return null;
    return newStatus(
      Code.UnschedulableAndUnresolvable,
      `waiting for scheduling gates: [${gates.map((g) => g.name).join(' ')}]`,
    );
  }

  eventsToRegister(): ClusterEvent[] {
    return [{ resource: 'UnschedulablePod', actionType: ActionType.UpdatePodSchedulingGatesEliminated }];
  }
}

/** Factory for the registry. */
export function newSchedulingGates(): Plugin {
  return new SchedulingGates();
}
