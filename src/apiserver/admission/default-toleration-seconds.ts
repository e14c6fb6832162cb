// DefaultTolerationSeconds (upstream plugin/pkg/admission/defaulttolerationseconds): a pod
// that does not say how long it tolerates its node being not-ready or unreachable is given
// 300 s for each, so the taint manager evicts it five minutes after its node fails.
import type { Pod, Toleration } from '../../api/generated/types/core-v1.js';
import { asPod, isPodMain, podSpec } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** Default seconds a pod tolerates the not-ready and unreachable NoExecute taints. */
export const DEFAULT_TOLERATION_SECONDS = 300;

const NOT_READY = 'node.kubernetes.io/not-ready';
const UNREACHABLE = 'node.kubernetes.io/unreachable';

function tolerates(tolerations: Toleration[], key: string): boolean {
  return tolerations.some((t) => (t.key === key || !t.key) && (t.effect === 'NoExecute' || !t.effect));
}

/** Adds the default not-ready/unreachable tolerations a pod lacks. */
export function addDefaultTolerations(pod: Pod, seconds = DEFAULT_TOLERATION_SECONDS): void {
  const spec = podSpec(pod);
  const tolerations = spec.tolerations ?? [];
  const add: Toleration[] = [];
  for (const key of [NOT_READY, UNREACHABLE]) {
    if (!tolerates(tolerations, key)) {
      add.push({ key, operator: 'Exists', effect: 'NoExecute', tolerationSeconds: seconds });
    }
  }
  if (add.length > 0) spec.tolerations = [...tolerations, ...add];
}

/** The DefaultTolerationSeconds plugin. */
export function defaultTolerationSeconds(seconds = DEFAULT_TOLERATION_SECONDS): AdmissionPlugin {
  return {
    name: 'DefaultTolerationSeconds',
    admit(req: AdmissionRequest): void {
      if (!isPodMain(req) || req.operation !== 'CREATE') return;
      const pod = asPod(req.object);
      if (pod) addDefaultTolerations(pod, seconds);
    },
  };
}
