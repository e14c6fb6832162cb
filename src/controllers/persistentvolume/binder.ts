// The PersistentVolume controller (upstream pkg/controller/volume/persistentvolume,
// `persistentvolume-binder`): binds claims to volumes and keeps both sides' phases. Two
// queues, claims and volumes, each synced level-based from the informer caches and resynced
// every 15 s (upstream's --pvclaimbinder-sync-period), because binding depends on objects of
// the other kind.
//
// A claim without `pv.kubernetes.io/bind-completed` is unbound: it binds to the volume
// findMatchingVolume picks; with none, a WaitForFirstConsumer claim waits for the scheduler's
// selected node, a claim of a class is handed to that class's provisioner (kts has no in-tree
// provisioners, so every provisioner is external: the claim is annotated
// `volume.kubernetes.io/storage-provisioner` and the provisioner creates a volume pre-bound
// to it), and a claim without a class stays Pending. Binding writes the volume first
// (claimRef, then phase Bound), then the claim (volumeName and annotations, then status), so
// a crash in between leaves a volume pointing at its claim, which the next sync completes.
// A volume whose claim is gone is Released and its reclaim policy runs: Retain keeps it;
// Delete of a provisioned volume is the provisioner's job; anything else fails with
// upstream's messages, since kts has no deleter or recycler plugins.
import type { Node, PersistentVolume, PersistentVolumeClaim } from '../../api/generated/types/core-v1.js';
import type { StorageClass } from '../../api/generated/types/storage-v1.js';
import type { InformerHandle } from '../../client/cache/informer-factory.js';
import type { Lister } from '../../client/cache/listers.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import { type Client, gvr, type KubeObject } from '../../client/interface.js';
import type { Logger } from '../../client/log.js';
import { NODES, PERSISTENTVOLUMECLAIMS, PERSISTENTVOLUMES } from '../../client/resources.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { formatTimestamp } from '../../machinery/object-meta.js';
import { defaultStorageClass } from '../../apiserver/admission/default-storage-class.js';
import type { KObject } from '../../apiserver/registry/object.js';
import { SyncLoop } from '../common/sync-loop.js';
import { runPeriodically } from '../endpoints/work-loop.js';
import type { Controller, ControllerContext } from '../types.js';
import {
  ANN_BETA_STORAGE_CLASS,
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_BIND_COMPLETED,
  ANN_BOUND_BY_CONTROLLER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
  findMatchingVolume,
  isVolumeBoundToClaim,
  volumeSatisfiesClaim,
} from './matching.js';

/** storage.k8s.io/v1 storageclasses. */
export const STORAGECLASSES = gvr<StorageClass>('storage.k8s.io', 'v1', 'storageclasses');
/** How often every claim and volume is synced again (upstream's default 15 s). */
export const PV_RESYNC_PERIOD_MS = 15_000;
/** The event source upstream's controller reports as. */
export const PV_CONTROLLER_COMPONENT = 'persistentvolume-controller';

/** The informers of claims, volumes, classes and nodes every storage controller reads. */
export interface StorageInformers {
  pvc: InformerHandle<PersistentVolumeClaim>;
  pv: InformerHandle<PersistentVolume>;
  sc: InformerHandle<StorageClass>;
  node: InformerHandle<Node>;
  /** All four, for the workers to wait on. */
  synced: Array<Pick<SharedIndexInformer<KubeObject>, 'waitForSync'>>;
}

/** The shared informers of the storage controllers (the factory returns the same ones each call). */
export function storageInformers(ctx: ControllerContext): StorageInformers {
  const pvc = ctx.informers.forResource(PERSISTENTVOLUMECLAIMS);
  const pv = ctx.informers.forResource(PERSISTENTVOLUMES);
  const sc = ctx.informers.forResource(STORAGECLASSES);
  const node = ctx.informers.forResource(NODES);
  return { pvc, pv, sc, node, synced: [pvc.informer, pv.informer, sc.informer, node.informer] };
}

/** The persistentvolume-binder controller. */
export class PersistentVolumeController implements Controller {
  readonly name = 'persistentvolume-binder';
  /** Claim keys (`namespace/name`) waiting to be synced. */
  readonly claimQueue: RateLimitingQueue<string>;
  /** Volume names waiting to be synced. */
  readonly volumeQueue: RateLimitingQueue<string>;
  private readonly claimLoop: SyncLoop;
  private readonly volumeLoop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly workers: number;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly classes: Lister<StorageClass>;
  private readonly nodes: Lister<Node>;
  private readonly synced: StorageInformers['synced'];

  /** Wires the informer handlers. */
  constructor(ctx: ControllerContext) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    this.recorder = ctx.recorder(PV_CONTROLLER_COMPONENT);
    this.workers = ctx.options.workers;
    this.claimLoop = new SyncLoop('pv-claims', ctx.log, ctx.clock);
    this.volumeLoop = new SyncLoop('pv-volumes', ctx.log, ctx.clock);
    this.claimQueue = this.claimLoop.queue;
    this.volumeQueue = this.volumeLoop.queue;
    const { pvc, pv, sc, node, synced } = storageInformers(ctx);
    this.claims = pvc.lister;
    this.volumes = pv.lister;
    this.classes = sc.lister;
    this.nodes = node.lister;
    this.synced = synced;
    const onClaim = (o: PersistentVolumeClaim | DeletedFinalStateUnknown<PersistentVolumeClaim>): void =>
      this.claimQueue.add(metaNamespaceKeyFunc(unwrapTombstone(o)));
    // A deleted claim releases its volume: only the volume's sync notices.
    const onClaimDelete = (
      o: PersistentVolumeClaim | DeletedFinalStateUnknown<PersistentVolumeClaim>,
    ): void => {
      const volumeName = unwrapTombstone(o).spec?.volumeName ?? '';
      if (volumeName !== '') this.volumeQueue.add(volumeName);
    };
    pvc.informer.addEventHandler({
      onAdd: onClaim,
      onUpdate: (_o, n) => onClaim(n),
      onDelete: onClaimDelete,
    });
    const onVolume = (o: PersistentVolume | DeletedFinalStateUnknown<PersistentVolume>): void =>
      this.volumeQueue.add(unwrapTombstone(o).metadata?.name ?? '');
    // A deleted volume leaves its claim Lost.
    const onVolumeDelete = (o: PersistentVolume | DeletedFinalStateUnknown<PersistentVolume>): void => {
      const ref = unwrapTombstone(o).spec?.claimRef;
      if (ref?.name !== undefined) this.claimQueue.add(`${ref.namespace ?? ''}/${ref.name}`);
    };
    pv.informer.addEventHandler({
      onAdd: onVolume,
      onUpdate: (_o, n) => onVolume(n),
      onDelete: onVolumeDelete,
    });
    // A class appearing (the local-path one at start-up) unblocks claims waiting for it.
    const onClass = (): void => {
      for (const c of this.claims.list()) if ((c.spec?.volumeName ?? '') === '') onClaim(c);
    };
    sc.informer.addEventHandler({ onAdd: onClass, onUpdate: onClass });
  }

  async run(signal: AbortSignal): Promise<void> {
    await Promise.all([
      this.volumeLoop.run(signal, this.workers, (k) => this.syncVolumeKey(k), this.synced),
      this.claimLoop.run(signal, this.workers, (k) => this.syncClaimKey(k), this.synced),
      runPeriodically(this.clock, PV_RESYNC_PERIOD_MS, () => this.resync(), signal, this.log),
    ]);
  }

  /** Queues every claim and volume again (upstream's periodic resync). */
  resync(): void {
    for (const v of this.volumes.list()) this.volumeQueue.add(v.metadata?.name ?? '');
    for (const c of this.claims.list()) this.claimQueue.add(metaNamespaceKeyFunc(c));
  }

  /** Syncs the claim with this key from the cache. */
  async syncClaimKey(key: string): Promise<void> {
    const claim = this.claims.getByKey(key);
    if (claim !== undefined) await this.syncClaim(claim);
  }

  /** Syncs the volume with this name from the cache. */
  async syncVolumeKey(name: string): Promise<void> {
    const volume = this.volumes.getByKey(name);
    if (volume !== undefined) await this.syncVolume(volume);
  }

  /** One claim: bind it, wait, provision, or check an existing binding. */
  async syncClaim(claim: PersistentVolumeClaim): Promise<void> {
    if (claim.metadata?.annotations?.[ANN_BIND_COMPLETED] === undefined) await this.syncUnboundClaim(claim);
    else await this.syncBoundClaim(claim);
  }

  private async syncUnboundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      if (await this.assignDefaultClass(claim)) return;
      const selectedNode = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
      const delayBinding = selectedNode === undefined && this.isDelayBindingMode(claim);
      const node = selectedNode === undefined ? undefined : this.nodes.getByKey(selectedNode);
      const volume = findMatchingVolume(claim, this.volumes.list(), {
        delayBinding,
        ...(node !== undefined ? { node } : {}),
      });
      if (volume !== undefined) {
        await this.bind(volume, claim);
        return;
      }
      if (delayBinding) {
        this.recorder.event(
          claim,
          'Normal',
          'WaitForFirstConsumer',
          'waiting for first consumer to be created before binding',
        );
      } else if (claimClass(claim) !== '') {
        await this.provisionClaim(claim);
        return;
      } else {
        this.recorder.event(
          claim,
          'Normal',
          'FailedBinding',
          'no persistent volumes available for this claim and no storage class is set',
        );
      }
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    // The user asked for a particular volume.
    const volume = this.volumes.getByKey(volumeName);
    if (volume === undefined) {
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    if (volume.spec?.claimRef === undefined) {
      const why = volumeSatisfiesClaim(volume, claim);
      if (why !== undefined) {
        this.recorder.event(
          claim,
          'Warning',
          'VolumeMismatch',
          `Cannot bind to requested volume "${volumeName}": ${why}`,
        );
        await this.updateClaimStatus(claim, 'Pending', undefined);
        return;
      }
      await this.bind(volume, claim);
      return;
    }
    if (isVolumeBoundToClaim(volume, claim)) {
      await this.bind(volume, claim);
      return;
    }
    // The volume belongs to another claim: a user's pre-binding waits for it to be freed.
    if (claim.metadata?.annotations?.[ANN_BOUND_BY_CONTROLLER] === undefined) {
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    throw new Error(
      `invalid binding of claim "${metaNamespaceKeyFunc(claim)}" to volume "${volumeName}": volume already claimed by "${volume.spec.claimRef.namespace ?? ''}/${volume.spec.claimRef.name ?? ''}"`,
    );
  }

  private async syncBoundClaim(claim: PersistentVolumeClaim): Promise<void> {
    const volumeName = claim.spec?.volumeName ?? '';
    if (volumeName === '') {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost reference to PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    const volume = this.volumes.getByKey(volumeName);
    if (volume === undefined) {
      await this.claimLost(
        claim,
        'ClaimLost',
        'Bound claim has lost its PersistentVolume. Data on the volume is lost!',
      );
      return;
    }
    const ref = volume.spec?.claimRef;
    if (ref === undefined || ref.uid === claim.metadata?.uid) {
      await this.bind(volume, claim);
      return;
    }
    await this.claimLost(
      claim,
      'ClaimMisbound',
      'Two claims are bound to the same volume, this one is bound incorrectly',
    );
  }

  private async claimLost(claim: PersistentVolumeClaim, reason: string, message: string): Promise<void> {
    if (claim.status?.phase === 'Lost') return;
    await this.updateClaimStatus(claim, 'Lost', undefined);
    this.recorder.event(claim, 'Warning', reason, message);
  }

  /** One volume: phase from its claim, release and reclaim when the claim is gone. */
  async syncVolume(volume: PersistentVolume): Promise<void> {
    const ref = volume.spec?.claimRef;
    if (ref === undefined || (ref.uid ?? '') === '') {
      // Unused, or reserved for a claim whose own sync completes the binding.
      await this.updateVolumePhase(volume, 'Available', '');
      return;
    }
    let claim = this.claims.getByKey(`${ref.namespace ?? ''}/${ref.name ?? ''}`);
    // A claim of the same name but another uid means ours was deleted.
    if (claim !== undefined && claim.metadata?.uid !== ref.uid) claim = undefined;
    if (claim === undefined) {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed')
        current = await this.updateVolumePhase(volume, 'Released', '');
      await this.reclaimVolume(current);
      return;
    }
    const claimVolume = claim.spec?.volumeName ?? '';
    if (claimVolume === '') {
      // Bound from the volume's side only (a provisioner's pre-bound volume): the claim's
      // sync finishes it.
      this.claimQueue.add(metaNamespaceKeyFunc(claim));
      return;
    }
    if (claimVolume === volume.metadata?.name) {
      await this.updateVolumePhase(volume, 'Bound', '');
      return;
    }
    // The claim went to another volume.
    const annotations = volume.metadata?.annotations ?? {};
    if (
      annotations[ANN_DYNAMICALLY_PROVISIONED] !== undefined &&
      volume.spec?.persistentVolumeReclaimPolicy === 'Delete'
    ) {
      let current = volume;
      if (volume.status?.phase !== 'Released' && volume.status?.phase !== 'Failed')
        current = await this.updateVolumePhase(volume, 'Released', '');
      await this.reclaimVolume(current);
      return;
    }
    await this.unbindVolume(volume);
  }

  // Runs the reclaim policy of a released volume.
  private async reclaimVolume(volume: PersistentVolume): Promise<void> {
    const name = volume.metadata?.name ?? '';
    switch (volume.spec?.persistentVolumeReclaimPolicy ?? 'Retain') {
      case 'Retain':
        return;
      case 'Recycle':
        await this.failVolume(volume, 'VolumeFailedRecycle', 'No recycler plugin found for the volume!');
        return;
      case 'Delete': {
        const provisioner = volume.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED];
        // An external provisioner deletes what it provisioned (kts has no in-tree deleters).
        if (provisioner !== undefined && !provisioner.startsWith('kubernetes.io/')) return;
        await this.failVolume(
          volume,
          'VolumeFailedDelete',
          `error getting deleter volume plugin for volume "${name}": no deletable volume plugin matched`,
        );
        return;
      }
      default:
        await this.failVolume(
          volume,
          'VolumeUnknownReclaimPolicy',
          'Volume has unrecognized PersistentVolumeReclaimPolicy',
        );
    }
  }

  private async failVolume(volume: PersistentVolume, reason: string, message: string): Promise<void> {
    if (volume.status?.phase === 'Failed' && volume.status.message === message) return;
    await this.updateVolumePhase(volume, 'Failed', message);
    this.recorder.event(volume, 'Warning', reason, message);
  }

  // Frees a volume the controller (or a user) tied to a claim that is bound elsewhere.
  private async unbindVolume(volume: PersistentVolume): Promise<void> {
    const next = structuredClone(volume);
    const spec = next.spec ?? {};
    next.spec = spec;
    const annotations = { ...(next.metadata?.annotations ?? {}) };
    if (annotations[ANN_BOUND_BY_CONTROLLER] !== undefined && spec.claimRef !== undefined) {
      // We made this link: undo it entirely.
      delete spec.claimRef;
    } else if (spec.claimRef !== undefined) {
      // The user pre-bound it: keep the name, forget the old claim's uid.
      const { uid: _uid, ...rest } = spec.claimRef;
      spec.claimRef = rest;
    }
    delete annotations[ANN_BOUND_BY_CONTROLLER];
    next.metadata = { ...(next.metadata ?? {}), annotations };
    const saved = await this.client.resource(PERSISTENTVOLUMES).update('', next);
    await this.updateVolumePhase(saved, 'Available', '');
  }

  // The claim's class names a provisioner; kts runs none in-tree, so it is always external.
  private async provisionClaim(claim: PersistentVolumeClaim): Promise<void> {
    const className = claimClass(claim);
    const sc = this.classes.getByKey(className);
    if (sc === undefined) {
      this.recorder.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `storageclass.storage.k8s.io "${className}" not found`,
      );
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const provisioner = sc.provisioner;
    if (provisioner.startsWith('kubernetes.io/')) {
      this.recorder.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `no volume plugin matched name: ${provisioner}`,
      );
      await this.updateClaimStatus(claim, 'Pending', undefined);
      return;
    }
    const annotations = claim.metadata?.annotations ?? {};
    let current = claim;
    if (
      annotations[ANN_STORAGE_PROVISIONER] !== provisioner ||
      annotations[ANN_BETA_STORAGE_PROVISIONER] !== provisioner
    ) {
      const next = structuredClone(claim);
      next.metadata = {
        ...(next.metadata ?? {}),
        annotations: {
          ...annotations,
          [ANN_STORAGE_PROVISIONER]: provisioner,
          [ANN_BETA_STORAGE_PROVISIONER]: provisioner,
        },
      };
      current = await this.client
        .resource(PERSISTENTVOLUMECLAIMS)
        .update(claim.metadata?.namespace ?? '', next);
    }
    this.recorder.event(
      current,
      'Normal',
      'ExternalProvisioning',
      `Waiting for a volume to be created either by the external provisioner '${provisioner}' or manually by the system administrator. If volume creation is delayed, please verify that the provisioner is running and correctly registered.`,
    );
  }

  // A claim created before any default class existed gets the default now (upstream's
  // retroactive default StorageClass assignment); true when the claim was updated.
  private async assignDefaultClass(claim: PersistentVolumeClaim): Promise<boolean> {
    if (claim.spec?.storageClassName !== undefined) return false;
    if (claim.metadata?.annotations?.[ANN_BETA_STORAGE_CLASS] !== undefined) return false;
    const def = defaultStorageClass(this.classes.list() as unknown as KObject[]);
    const name = def?.metadata?.name;
    if (name === undefined) return false;
    const next = structuredClone(claim);
    next.spec = { ...(next.spec ?? {}), storageClassName: name };
    await this.client.resource(PERSISTENTVOLUMECLAIMS).update(claim.metadata?.namespace ?? '', next);
    return true;
  }

  private isDelayBindingMode(claim: PersistentVolumeClaim): boolean {
    const className = claimClass(claim);
    if (className === '') return false;
    return this.classes.getByKey(className)?.volumeBindingMode === 'WaitForFirstConsumer';
  }

  /** Binds both sides (upstream ctrl.bind): volume, its phase, claim, its status. */
  private async bind(volume: PersistentVolume, claim: PersistentVolumeClaim): Promise<void> {
    const v = await this.bindVolumeToClaim(volume, claim);
    const bound = await this.updateVolumePhase(v, 'Bound', '');
    const c = await this.bindClaimToVolume(claim, bound);
    await this.updateClaimStatus(c, 'Bound', bound);
  }

  private async bindVolumeToClaim(
    volume: PersistentVolume,
    claim: PersistentVolumeClaim,
  ): Promise<PersistentVolume> {
    const m = claim.metadata ?? {};
    const ref = volume.spec?.claimRef;
    const byController = !isVolumeBoundToClaim(volume, claim);
    const refOk =
      ref !== undefined && ref.name === m.name && ref.namespace === m.namespace && ref.uid === m.uid;
    const annotations = volume.metadata?.annotations ?? {};
    const annotate = byController && annotations[ANN_BOUND_BY_CONTROLLER] === undefined;
    if (refOk && !annotate) return volume;
    const next = structuredClone(volume);
    next.spec = {
      ...(next.spec ?? {}),
      claimRef: {
        kind: 'PersistentVolumeClaim',
        namespace: m.namespace ?? '',
        name: m.name ?? '',
        uid: m.uid ?? '',
        apiVersion: 'v1',
        ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      },
    };
    if (annotate)
      next.metadata = {
        ...(next.metadata ?? {}),
        annotations: { ...annotations, [ANN_BOUND_BY_CONTROLLER]: 'yes' },
      };
    return this.client.resource(PERSISTENTVOLUMES).update('', next);
  }

  private async bindClaimToVolume(
    claim: PersistentVolumeClaim,
    volume: PersistentVolume,
  ): Promise<PersistentVolumeClaim> {
    const name = volume.metadata?.name ?? '';
    const annotations = { ...(claim.metadata?.annotations ?? {}) };
    let dirty = false;
    const next = structuredClone(claim);
    if (claim.spec?.volumeName !== name) {
      next.spec = { ...(next.spec ?? {}), volumeName: name };
      dirty = true;
      if (annotations[ANN_BOUND_BY_CONTROLLER] === undefined) annotations[ANN_BOUND_BY_CONTROLLER] = 'yes';
    }
    if (annotations[ANN_BIND_COMPLETED] === undefined) {
      annotations[ANN_BIND_COMPLETED] = 'yes';
      dirty = true;
    }
    if (!dirty) return claim;
    next.metadata = { ...(next.metadata ?? {}), annotations };
    return this.client.resource(PERSISTENTVOLUMECLAIMS).update(claim.metadata?.namespace ?? '', next);
  }

  /** Sets the claim's phase, and its capacity and access modes from the volume (or clears them). */
  private async updateClaimStatus(
    claim: PersistentVolumeClaim,
    phase: string,
    volume: PersistentVolume | undefined,
  ): Promise<PersistentVolumeClaim> {
    const status = { ...(claim.status ?? {}) };
    let dirty = status.phase !== phase;
    status.phase = phase;
    if (volume === undefined) {
      if (status.accessModes !== undefined || status.capacity !== undefined) dirty = true;
      delete status.accessModes;
      delete status.capacity;
    } else {
      const modes = volume.spec?.accessModes ?? [];
      if (JSON.stringify(status.accessModes ?? []) !== JSON.stringify(modes)) dirty = true;
      status.accessModes = modes;
      const capacity = volume.spec?.capacity?.storage;
      if (capacity === undefined)
        throw new Error(`PersistentVolume "${volume.metadata?.name ?? ''}" is without a storage capacity`);
      if (status.capacity?.storage !== capacity) dirty = true;
      status.capacity = { ...(volume.spec?.capacity ?? {}) };
    }
    if (!dirty) return claim;
    return this.client
      .resource(PERSISTENTVOLUMECLAIMS)
      .updateStatus(claim.metadata?.namespace ?? '', { ...claim, status });
  }

  /** Sets the volume's phase and message (with lastPhaseTransitionTime when the phase changes). */
  private async updateVolumePhase(
    volume: PersistentVolume,
    phase: string,
    message: string,
  ): Promise<PersistentVolume> {
    const old = volume.status ?? {};
    if (old.phase === phase && (old.message ?? '') === message) return volume;
    const status: NonNullable<PersistentVolume['status']> = { ...old, phase };
    if (message !== '') status.message = message;
    else delete status.message;
    if (old.phase !== phase) status.lastPhaseTransitionTime = formatTimestamp(this.clock.now());
    return this.client.resource(PERSISTENTVOLUMES).updateStatus('', { ...volume, status });
  }
}
