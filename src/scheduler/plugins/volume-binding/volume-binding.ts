// VolumeBinding: a pod using PersistentVolumeClaims fits only nodes its volumes can reach.
// Bound claims: the PV's nodeAffinity must match the node. Unbound claims of a
// WaitForFirstConsumer class: some available PV (same class, big enough, access modes,
// node affinity) must match the node, or the class must be able to provision there
// (allowedTopologies). Unbound Immediate claims make the pod wait for the PV controller.
// Simplified against upstream: PreBind annotates the claims it decided for with
// volume.kubernetes.io/selected-node (through SchedulerClient.setSelectedNode) and lets the
// PV controller bind or provision, then waits for the claims to be bound; it does not
// pre-bind PVs itself.

import type { PersistentVolume, PersistentVolumeClaim, Pod } from '../../../api/generated/types/core-v1.js';
import type { CycleState, StateData } from '../../framework/cycle-state.js';
import { readState } from '../../framework/cycle-state.js';
import { ActionType, type ClusterEvent } from '../../framework/events.js';
import type {
  EnqueueExtensions,
  FilterPlugin,
  Handle,
  Plugin,
  PreBindPlugin,
  PreFilterPlugin,
  PreFilterReturn,
  ReservePlugin,
} from '../../framework/interfaces.js';
import type { NodeInfo } from '../../framework/node-info.js';
import { quantityValue } from '../../framework/resource.js';
import { asStatus, Code, type PluginStatus, SKIP, Status } from '../../framework/status.js';
import { nodeSelectorMatches } from '../helpers/node-selector.js';

/** The upstream plugin name. */
export const NAME = 'VolumeBinding';
/** Upstream's reason when a bound PV cannot be reached from the node. */
export const ERR_REASON_NODE_CONFLICT = 'node(s) had volume node affinity conflict';
/** Upstream's reason when no PV can be bound or provisioned for the node. */
export const ERR_REASON_BIND_CONFLICT = "node(s) didn't find available persistent volumes to bind";
/** Upstream's PreFilter reason for unbound Immediate claims. */
export const ERR_REASON_UNBOUND_IMMEDIATE = 'pod has unbound immediate PersistentVolumeClaims';

const PRE_FILTER_KEY = `PreFilter${NAME}`;
const SELECTED_NODE_ANNOTATION = 'volume.kubernetes.io/selected-node';
const NO_PROVISIONER = 'kubernetes.io/no-provisioner';

class PodVolumes implements StateData {
  /** Claims bound to a PV, with the PV. */
  bound: { pvc: PersistentVolumeClaim; pv: PersistentVolume | undefined }[] = [];
  /** Unbound WaitForFirstConsumer claims. */
  delayed: PersistentVolumeClaim[] = [];
  /** Claims to annotate in PreBind, chosen at Reserve. */
  toAnnotate: PersistentVolumeClaim[] = [];
  clone(): StateData {
    return this;
  }
}

function claimNames(pod: Pod): string[] {
  const out: string[] = [];
  for (const v of pod.spec?.volumes ?? []) {
    if (v.persistentVolumeClaim !== undefined) out.push(v.persistentVolumeClaim.claimName);
    else if (v.ephemeral !== undefined) out.push(`${pod.metadata?.name ?? ''}-${v.name}`);
  }
  return out;
}

function pvMatchesNode(pv: PersistentVolume, ni: NodeInfo): boolean {
  const req = pv.spec?.nodeAffinity?.required;
  if (req === undefined || ni.node === undefined) return true;
  return nodeSelectorMatches(req, ni.node);
}

/** Volume topology for pods with claims. */
export class VolumeBinding
  implements PreFilterPlugin, FilterPlugin, ReservePlugin, PreBindPlugin, EnqueueExtensions
{
  readonly name = NAME;

  /** A plugin reading claims, volumes and classes from the handle's listers. */
  constructor(private readonly handle: Handle) {}

  preFilter(state: CycleState, pod: Pod): PreFilterReturn {
    const names = claimNames(pod);
    if (names.length === 0) return SKIP;
    const ns = pod.metadata?.namespace ?? '';
    const l = this.handle.listers;
    const vols = new PodVolumes();
    let unboundImmediate = false;
    for (const name of names) {
      const pvc = l.pvc(ns, name);
      if (pvc === undefined)
        return new Status(Code.UnschedulableAndUnresolvable, [`persistentvolumeclaim "${name}" not found`]);
      if (pvc.metadata?.deletionTimestamp !== undefined) {
        return new Status(Code.UnschedulableAndUnresolvable, [
          `persistentvolumeclaim "${name}" is being deleted`,
        ]);
      }
      const volumeName = pvc.spec?.volumeName;
      if (volumeName !== undefined && volumeName !== '') {
        vols.bound.push({ pvc, pv: l.pv(volumeName) });
        continue;
      }
      const className = pvc.spec?.storageClassName ?? '';
      const sc = className === '' ? undefined : l.storageClass(className);
      if (sc?.volumeBindingMode === 'WaitForFirstConsumer') vols.delayed.push(pvc);
      else unboundImmediate = true;
    }
    if (unboundImmediate)
      return new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_UNBOUND_IMMEDIATE]);
    if (vols.bound.some((b) => b.pv === undefined)) {
      return new Status(Code.UnschedulableAndUnresolvable, ['pvc(s) bound to non-existent pv(s)']);
    }
    state.write(PRE_FILTER_KEY, vols);
    return null;
  }

  filter(state: CycleState, _pod: Pod, nodeInfo: NodeInfo): PluginStatus {
    const vols = readState(state, PRE_FILTER_KEY, PodVolumes);
    if (vols === undefined) return null;
    for (const b of vols.bound) {
      if (b.pv !== undefined && !pvMatchesNode(b.pv, nodeInfo))
        return new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_NODE_CONFLICT]);
    }
    if (vols.delayed.length > 0 && !this.delayedFit(vols.delayed, nodeInfo)) {
      return new Status(Code.UnschedulableAndUnresolvable, [ERR_REASON_BIND_CONFLICT]);
    }
    return null;
  }

  /** True when every delayed claim has a matching PV or a provisioner reaching the node. */
  private delayedFit(claims: readonly PersistentVolumeClaim[], ni: NodeInfo): boolean {
    const l = this.handle.listers;
    const taken = new Set<string>();
    for (const pvc of claims) {
      const className = pvc.spec?.storageClassName ?? '';
      const want = quantityValue(pvc.spec?.resources?.requests?.storage ?? '0');
      const modes = pvc.spec?.accessModes ?? [];
      const pv = l.pvs().find((v) => {
        const name = v.metadata?.name ?? '';
        if (taken.has(name) || v.spec?.claimRef !== undefined) return false;
        if ((v.spec?.storageClassName ?? '') !== className) return false;
        if (quantityValue(v.spec?.capacity?.storage ?? '0') < want) return false;
        if (!modes.every((m) => (v.spec?.accessModes ?? []).includes(m))) return false;
        return pvMatchesNode(v, ni);
      });
      if (pv !== undefined) {
        taken.add(pv.metadata?.name ?? '');
        continue;
      }
      const sc = l.storageClass(className);
      if (sc === undefined || sc.provisioner === NO_PROVISIONER) return false;
      const topo = sc.allowedTopologies ?? [];
      if (topo.length > 0 && ni.node !== undefined) {
        const labels = ni.node.metadata?.labels ?? {};
        const ok = topo.some((t) =>
          (t.matchLabelExpressions ?? []).every((e) => e.values.includes(labels[e.key] ?? '\u0000')),
        );
        if (!ok) return false;
      }
    }
    return true;
  }

  reserve(state: CycleState, _pod: Pod, _nodeName: string): PluginStatus {
    const vols = readState(state, PRE_FILTER_KEY, PodVolumes);
    if (vols !== undefined) {
      vols.toAnnotate = vols.delayed.filter(
        (p) => p.metadata?.annotations?.[SELECTED_NODE_ANNOTATION] === undefined,
      );
    }
    return null;
  }

  unreserve(state: CycleState): void {
    const vols = readState(state, PRE_FILTER_KEY, PodVolumes);
    if (vols !== undefined) vols.toAnnotate = [];
  }

  async preBind(state: CycleState, _pod: Pod, nodeName: string): Promise<PluginStatus> {
    const vols = readState(state, PRE_FILTER_KEY, PodVolumes);
    const client = this.handle.client;
    if (vols === undefined || vols.toAnnotate.length === 0 || client.setSelectedNode === undefined)
      return null;
    try {
      for (const pvc of vols.toAnnotate) await client.setSelectedNode(pvc, nodeName);
    } catch (e) {
      return asStatus(e);
    }
    // As upstream's BindPodVolumes: the pod is bound only once its claims are, so the
    // kubelet never meets an unbound claim (and a FailedMount) on a fresh pod.
    const deadline = Date.now() + BIND_TIMEOUT_MS;
    const unbound = (): PersistentVolumeClaim[] =>
      vols.toAnnotate.filter((c) => {
        const now = this.handle.listers.pvc(c.metadata?.namespace ?? '', c.metadata?.name ?? '');
        return (now?.spec?.volumeName ?? '') === '';
      });
    for (let left = unbound(); left.length > 0; left = unbound()) {
      if (Date.now() >= deadline)
        return new Status(Code.Error, [
          `binding volumes: timed out waiting for claims ${left.map((c) => c.metadata?.name ?? '').join(', ')} to be bound`,
        ]);
      await new Promise((r) => setTimeout(r, BIND_POLL_MS));
    }
    return null;
  }

  eventsToRegister(): ClusterEvent[] {
    return [
      { resource: 'PersistentVolumeClaim', actionType: ActionType.Add | ActionType.Update },
      { resource: 'PersistentVolume', actionType: ActionType.Add | ActionType.Update },
      { resource: 'StorageClass', actionType: ActionType.Add | ActionType.Update },
      { resource: 'Node', actionType: ActionType.Add | ActionType.UpdateNodeLabel },
      { resource: 'CSINode', actionType: ActionType.Add | ActionType.Update },
    ];
  }
}

/** How long PreBind waits for the claims it annotated to be bound (upstream bindTimeoutSeconds). */
const BIND_TIMEOUT_MS = 600_000;
/** How often it looks (the claims come from the informer's cache). */
const BIND_POLL_MS = 50;

/** Factory for the registry. */
export function newVolumeBinding(_args: unknown, handle: Handle): Plugin {
  return new VolumeBinding(handle);
}
