// TaintNodesByCondition (upstream plugin/pkg/admission/nodetaint): a Node is born with the
// `node.kubernetes.io/not-ready:NoSchedule` taint, so nothing is scheduled onto it before
// the node lifecycle controller has seen it report Ready and removed the taint.
import type { Node, Taint } from '../../api/generated/types/core-v1.js';
import { isResource } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** The taint every new Node gets. */
export const NOT_READY_TAINT: Taint = { key: 'node.kubernetes.io/not-ready', effect: 'NoSchedule' };

/** The TaintNodesByCondition plugin. */
export function taintNodesByCondition(): AdmissionPlugin {
  return {
    name: 'TaintNodesByCondition',
    admit(req: AdmissionRequest): void {
      if (!isResource(req, '', 'nodes') || req.subresource !== '' || req.operation !== 'CREATE') return;
      const node = req.object as unknown as Node | undefined;
      if (!node) return;
      const spec = node.spec ?? {};
      node.spec = spec;
      const taints = spec.taints ?? [];
      if (taints.some((t) => t.key === NOT_READY_TAINT.key && t.effect === NOT_READY_TAINT.effect)) return;
      spec.taints = [...taints, { ...NOT_READY_TAINT }];
    },
  };
}
