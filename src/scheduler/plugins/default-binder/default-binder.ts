// DefaultBinder: binds through the pods/binding subresource (SchedulerClient.bind).

import type { Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState } from '../../framework/cycle-state.js';
import type { BindPlugin, Handle, Plugin } from '../../framework/interfaces.js';
import { asStatus, type PluginStatus } from '../../framework/status.js';

/** The upstream plugin name. */
export const NAME = 'DefaultBinder';

/** Binds with the client. */
export class DefaultBinder implements BindPlugin {
  readonly name = NAME;

  /** A binder writing through the handle's client. */
  constructor(private readonly handle: Handle) {}

  async bind(_state: CycleState, pod: Pod, nodeName: string): Promise<PluginStatus> {
    try {
      await this.handle.client.bind(pod, nodeName);
      return null;
    } catch (e) {
      return asStatus(e);
    }
  }
}

/** Factory for the registry. */
export function newDefaultBinder(_args: unknown, handle: Handle): Plugin {
  return new DefaultBinder(handle);
}
