// Which PersistentVolume a claim may bind to (upstream pkg/controller/volume/persistentvolume
// index.go and component-helpers/storage/volume FindMatchingVolume). A claim takes the
// smallest Available volume of its class that is at least as big as its request, offers every
// access mode it asks for, has the same volumeMode and matches its label selector. Volumes are
// tried by access-mode set, fewest modes first, so a ReadWriteOnce claim does not take a
// ReadWriteMany volume while a ReadWriteOnce one would do. A volume pre-bound to the claim
// (`spec.claimRef`) wins over every other as long as it is big enough.
//
// Unlike upstream's controller, which leaves node affinity to the scheduler (that pre-binds
// volumes itself), kts's scheduler only names the node, so the caller passes the claim's
// selected node and volumes that cannot reach it are skipped.
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  PersistentVolumeSpec,
} from '../../api/generated/types/core-v1.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { type Quantity, quantityFromJSON } from '../../machinery/quantity.js';
import { matchNodeSelectorTerm } from '../daemonset/predicates.js';

/** Set on a claim once the controller bound it (value "yes"). */
export const ANN_BIND_COMPLETED = 'pv.kubernetes.io/bind-completed';
/** Set on either side when the controller, not the user, made the link. */
export const ANN_BOUND_BY_CONTROLLER = 'pv.kubernetes.io/bound-by-controller';
/** The provisioner that created a volume. */
export const ANN_DYNAMICALLY_PROVISIONED = 'pv.kubernetes.io/provisioned-by';
/** The provisioner asked to provision a claim. */
export const ANN_STORAGE_PROVISIONER = 'volume.kubernetes.io/storage-provisioner';
/** The beta form of ANN_STORAGE_PROVISIONER, still set for old provisioners. */
export const ANN_BETA_STORAGE_PROVISIONER = 'volume.beta.kubernetes.io/storage-provisioner';
/** The node the scheduler chose for a WaitForFirstConsumer claim. */
export const ANN_SELECTED_NODE = 'volume.kubernetes.io/selected-node';
/** The storage class before `storageClassName` existed; still honoured. */
export const ANN_BETA_STORAGE_CLASS = 'volume.beta.kubernetes.io/storage-class';

/** The class a claim asks for ("" = none). */
export function claimClass(claim: PersistentVolumeClaim): string {
  const beta = claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return claim.spec?.storageClassName ?? '';
}

/** The class a volume belongs to ("" = none). */
export function volumeClass(volume: PersistentVolume): string {
  const beta = volume.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS];
  if (beta !== undefined) return beta;
  return volume.spec?.storageClassName ?? '';
}

/** The claim's storage request (0 when absent). */
export function requestedStorage(claim: PersistentVolumeClaim): Quantity | undefined {
  return quantityFromJSON(claim.spec?.resources?.requests?.storage);
}

/** The volume's storage capacity. */
export function volumeCapacity(volume: PersistentVolume): Quantity | undefined {
  return quantityFromJSON(volume.spec?.capacity?.storage);
}

/** True when the volume's claimRef names this claim (and its uid, once set). */
export function isVolumeBoundToClaim(volume: PersistentVolume, claim: PersistentVolumeClaim): boolean {
  const ref = volume.spec?.claimRef;
  if (ref === undefined) return false;
  if ((ref.name ?? '') !== (claim.metadata?.name ?? '')) return false;
  if ((ref.namespace ?? '') !== (claim.metadata?.namespace ?? '')) return false;
  return (ref.uid ?? '') === '' || ref.uid === claim.metadata?.uid;
}

/** True when claim and volume disagree on volumeMode (both default to Filesystem). */
export function volumeModeMismatch(
  claim: PersistentVolumeClaim['spec'],
  volume: PersistentVolumeSpec | undefined,
): boolean {
  return (claim?.volumeMode ?? 'Filesystem') !== (volume?.volumeMode ?? 'Filesystem');
}

/** True when the volume offers every access mode the claim asks for. */
export function accessModesSatisfied(claim: PersistentVolumeClaim, volume: PersistentVolume): boolean {
  const offered = new Set(volume.spec?.accessModes ?? []);
  return (claim.spec?.accessModes ?? []).every((m) => offered.has(m));
}

/** True when the volume's node affinity admits the node (no affinity admits every node). */
export function volumeReachesNode(volume: PersistentVolume, node: Node): boolean {
  const terms = volume.spec?.nodeAffinity?.required?.nodeSelectorTerms;
  if (terms === undefined) return true;
  return terms.some((t) => matchNodeSelectorTerm(t, node));
}

/**
 * Why a pre-bound volume (the claim names it in `spec.volumeName`) cannot serve the claim, or
 * undefined when it can (upstream checkVolumeSatisfyClaim, with its messages).
 */
export function volumeSatisfiesClaim(
  volume: PersistentVolume,
  claim: PersistentVolumeClaim,
): string | undefined {
  const want = requestedStorage(claim);
  const have = volumeCapacity(volume);
  if (want !== undefined && (have === undefined || have.cmp(want) < 0)) return 'requested PV is too small';
  if (volumeClass(volume) !== claimClass(claim)) return 'storageClassName does not match';
  if (volumeModeMismatch(claim.spec, volume.spec)) return 'incompatible volumeMode';
  if (!accessModesSatisfied(claim, volume)) return 'incompatible accessMode';
  return undefined;
}

/** How findMatchingVolume is asked. */
export interface MatchOptions {
  /**
   * The claim waits for its first consumer (WaitForFirstConsumer, no node chosen yet): only a
   * volume pre-bound to it may be returned.
   */
  delayBinding: boolean;
  /** The claim's selected node: volumes whose node affinity excludes it are skipped. */
  node?: Node;
}

/**
 * The volume the claim should bind to, or undefined: a volume pre-bound to the claim, else the
 * smallest matching Available volume, trying access-mode sets with the fewest modes first.
 */
export function findMatchingVolume(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  opts: MatchOptions,
): PersistentVolume | undefined {
  const wanted = claim.spec?.accessModes ?? [];
  // Upstream's index: every distinct access-mode set that holds all requested modes.
  const sets = new Map<string, PersistentVolume[]>();
  for (const v of volumes) {
    if (!wanted.every((m) => (v.spec?.accessModes ?? []).includes(m))) continue;
    const key = [...new Set(v.spec?.accessModes ?? [])].sort().join(',');
    const group = sets.get(key);
    if (group === undefined) sets.set(key, [v]);
    else group.push(v);
  }
  const ordered = [...sets.entries()].sort(
    ([a], [b]) => a.split(',').length - b.split(',').length || a.localeCompare(b),
  );
  for (const [, group] of ordered) {
    const found = matchInGroup(claim, group, opts);
    if (found !== undefined) return found;
  }
  return undefined;
}

function matchInGroup(
  claim: PersistentVolumeClaim,
  volumes: readonly PersistentVolume[],
  opts: MatchOptions,
): PersistentVolume | undefined {
  const want = requestedStorage(claim);
  const className = claimClass(claim);
  const selector =
    claim.spec?.selector === undefined ? undefined : labelSelectorAsSelector(claim.spec.selector);
  let best: PersistentVolume | undefined;
  let bestSize: Quantity | undefined;
  // Sorted by name so equal candidates give the same answer on every sync.
  const sorted = [...volumes].sort((a, b) => (a.metadata?.name ?? '').localeCompare(b.metadata?.name ?? ''));
  for (const v of sorted) {
    const size = volumeCapacity(v);
    if (want !== undefined && (size === undefined || size.cmp(want) < 0)) continue;
    if (volumeModeMismatch(claim.spec, v.spec)) continue;
    if (v.metadata?.deletionTimestamp !== undefined) continue;
    const reachable = opts.node === undefined || volumeReachesNode(v, opts.node);
    if (isVolumeBoundToClaim(v, claim)) return reachable ? v : undefined;
    if (opts.delayBinding) continue;
    if ((v.status?.phase ?? '') !== 'Available' || v.spec?.claimRef !== undefined) continue;
    if (selector !== undefined && !selector.matches(v.metadata?.labels ?? {})) continue;
    if (volumeClass(v) !== className || !reachable) continue;
    if (best === undefined || (size !== undefined && bestSize !== undefined && bestSize.cmp(size) > 0)) {
      best = v;
      bestSize = size;
    }
  }
  return best;
}
