// Priority (upstream plugin/pkg/admission/priority): a pod's priorityClassName (or the
// globalDefault PriorityClass when it names none) is resolved into spec.priority and
// spec.preemptionPolicy; a pod may not state a priority that disagrees with its class, and
// only one PriorityClass may be the global default. The two system classes exist from the
// first start (`ensureBuiltinPriorityClasses`) and cannot be deleted.
import type { Pod } from '../../api/generated/types/core-v1.js';
import type { PriorityClass } from '../../api/generated/types/scheduling-v1.js';
import { isAlreadyExists } from '../../machinery/status-error.js';
import type { KObject } from '../registry/object.js';
import type { StoreRegistry } from '../stores.js';
import { asPod, denied, getOrUndefined, isPodMain, isResource, listObjects, podSpec } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** Priority of pods when no class names one and no default class exists. */
export const DEFAULT_PRIORITY = 0;
/** The default preemption policy. */
export const PREEMPT_LOWER_PRIORITY = 'PreemptLowerPriority';

/** The built-in classes upstream creates at start. */
export const BUILTIN_PRIORITY_CLASSES: PriorityClass[] = [
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-node-critical' },
    value: 2000001000,
    description: 'Used for system critical pods that must not be moved from their current node.',
  },
  {
    apiVersion: 'scheduling.k8s.io/v1',
    kind: 'PriorityClass',
    metadata: { name: 'system-cluster-critical' },
    value: 2000000000,
    description:
      'Used for system critical pods that must run in the cluster, but can be moved to another node if necessary.',
  },
];

/** Creates the built-in PriorityClasses when missing. Idempotent. */
export async function ensureBuiltinPriorityClasses(stores: StoreRegistry): Promise<void> {
  const store = stores.byName('scheduling.k8s.io', 'priorityclasses');
  for (const pc of BUILTIN_PRIORITY_CLASSES) {
    try {
      await store.create('', structuredClone(pc) as unknown as KObject, {
        dryRun: false,
        fieldManager: 'kube-apiserver',
        subresource: '',
        warnings: [],
      });
    } catch (e) {
      if (!isAlreadyExists(e)) throw e;
    }
  }
}

async function globalDefault(stores: StoreRegistry): Promise<PriorityClass | undefined> {
  const all = (await listObjects(
    stores,
    'scheduling.k8s.io',
    'priorityclasses',
    '',
  )) as unknown as PriorityClass[];
  // Several defaults can only exist through a race; upstream then takes the lowest value.
  let best: PriorityClass | undefined;
  for (const pc of all)
    if (pc.globalDefault === true && (best === undefined || (pc.value ?? 0) < (best.value ?? 0))) best = pc;
  return best;
}

async function admitPod(stores: StoreRegistry, req: AdmissionRequest, pod: Pod): Promise<void> {
  const spec = podSpec(pod);
  let priority = DEFAULT_PRIORITY;
  let policy: string | undefined = PREEMPT_LOWER_PRIORITY;
  if (!spec.priorityClassName) {
    const def = await globalDefault(stores);
    if (def) {
      spec.priorityClassName = def.metadata?.name ?? '';
      priority = def.value ?? 0;
      if (def.preemptionPolicy) policy = def.preemptionPolicy;
    }
  } else {
    const pc = (await getOrUndefined(
      stores,
      'scheduling.k8s.io',
      'priorityclasses',
      '',
      spec.priorityClassName,
    )) as PriorityClass | undefined;
    if (!pc) throw denied(req, `no PriorityClass with name ${spec.priorityClassName} was found`);
    priority = pc.value ?? 0;
    if (pc.preemptionPolicy) policy = pc.preemptionPolicy;
  }
  if (spec.priority !== undefined && spec.priority !== priority) {
    throw denied(
      req,
      `the integer value of priority (${spec.priority}) must not be provided in pod spec; priority admission controller computed ${priority} from the given PriorityClass name`,
    );
  }
  spec.priority = priority;
  if (policy !== undefined) {
    if (spec.preemptionPolicy !== undefined && spec.preemptionPolicy !== policy) {
      throw denied(
        req,
        `the string value of PreemptionPolicy (${spec.preemptionPolicy}) must not be provided in pod spec; priority admission controller computed ${policy} from the given PriorityClass name`,
      );
    }
    spec.preemptionPolicy = policy;
  }
}

/** The Priority plugin. */
export function priorityAdmission(stores: StoreRegistry): AdmissionPlugin {
  return {
    name: 'Priority',
    async admit(req: AdmissionRequest): Promise<void> {
      if (!isPodMain(req) || req.operation !== 'CREATE') return;
      const pod = asPod(req.object);
      if (pod) await admitPod(stores, req, pod);
    },
    async validate(req: AdmissionRequest): Promise<void> {
      if (!isResource(req, 'scheduling.k8s.io', 'priorityclasses') || req.subresource !== '') return;
      // Upstream's PriorityClass REST refuses to delete the built-in classes.
      if (req.operation === 'DELETE') {
        const name = req.oldObject?.metadata?.name;
        if (BUILTIN_PRIORITY_CLASSES.some((b) => b.metadata?.name === name)) {
          throw denied(req, 'this is a system priority class and cannot be deleted');
        }
        return;
      }
      if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
      const pc = req.object as unknown as PriorityClass | undefined;
      if (pc?.globalDefault !== true) return;
      const def = await globalDefault(stores);
      if (def && def.metadata?.name !== pc.metadata?.name) {
        throw denied(
          req,
          `PriorityClass ${def.metadata?.name ?? ''} is already marked as default. Only one default can exist`,
        );
      }
    },
  };
}
