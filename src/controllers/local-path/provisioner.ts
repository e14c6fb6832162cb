// The local-path provisioner (what k3s ships as rancher/local-path-provisioner, here a
// controller of the manager): under the provisioner name `rancher.io/local-path`, so
// manifests written for k3s work unchanged. At start it creates the default StorageClass
// `local-path` (WaitForFirstConsumer, reclaim Delete) unless one of that name exists: a class
// the user changed or replaced is never touched.
//
// Provisioning: a claim the PV controller handed to this provisioner (annotation
// `volume.kubernetes.io/storage-provisioner`) and the scheduler placed (annotation
// `volume.kubernetes.io/selected-node`) gets a PersistentVolume `pvc-<claim uid>`, pre-bound to
// the claim, of type hostPath `DirectoryOrCreate` at `<base>/pvc-<uid>_<namespace>_<name>`
// with node affinity to that node's hostname; the PV controller then completes the binding and
// the node's kubelet creates the directory when the first pod mounts it.
//
// Deletion: the directory lives on the node, and only the node can remove it. As upstream's
// provisioner does, a helper pod `helper-pod-delete-<pv>` in kube-system is pinned to the node
// (nodeName, every taint tolerated) with the base directory mounted at the same path, and
// runs `rm -rf` on the volume's directory; once it Succeeded the helper pod and then the PV are
// deleted. A failed helper pod is reported (VolumeFailedDelete) and replaced after a backoff.
// This keeps the kubelet a plain API client: it may not list or update PersistentVolumes.
import { hostname } from 'node:os';
import { posix } from 'node:path';
import type {
  Node,
  PersistentVolume,
  PersistentVolumeClaim,
  Pod,
} from '../../api/generated/types/core-v1.js';
import type { StorageClass } from '../../api/generated/types/storage-v1.js';
import type { Lister } from '../../client/cache/listers.js';
import type { SharedIndexInformer } from '../../client/cache/shared-informer.js';
import {
  type DeletedFinalStateUnknown,
  metaNamespaceKeyFunc,
  unwrapTombstone,
} from '../../client/cache/store.js';
import type { Clock } from '../../client/clock.js';
import type { EventRecorder } from '../../client/events.js';
import type { Client, KubeObject } from '../../client/interface.js';
import { errorText, type Logger } from '../../client/log.js';
import { PERSISTENTVOLUMES, PODS } from '../../client/resources.js';
import type { RateLimitingQueue } from '../../client/workqueue/rate-limiting-queue.js';
import { isAlreadyExists, isNotFound } from '../../machinery/status-error.js';
import { Backoff } from '../../client/backoff.js';
import { BUSYBOX_IMAGE } from '../../kubelet/runtime/images/build-image.js';
import { SyncLoop } from '../common/sync-loop.js';
import { STORAGECLASSES, storageInformers } from '../persistentvolume/binder.js';
import {
  ANN_BETA_STORAGE_PROVISIONER,
  ANN_DYNAMICALLY_PROVISIONED,
  ANN_SELECTED_NODE,
  ANN_STORAGE_PROVISIONER,
  claimClass,
} from '../persistentvolume/matching.js';
import type { Controller, ControllerContext } from '../types.js';

/** The provisioner name (k3s's). */
export const LOCAL_PATH_PROVISIONER = 'rancher.io/local-path';
/** The StorageClass ensured at start. */
export const LOCAL_PATH_CLASS = 'local-path';
/** Where volumes live on each node unless the manager is told otherwise. */
export const DEFAULT_LOCAL_PATH_DIR = '/var/lib/kts/storage';
/** The namespace of the helper pods. */
export const HELPER_NAMESPACE = 'kube-system';
const DELETE_HELPER_PREFIX = 'helper-pod-delete-';
const HOSTNAME_LABEL = 'kubernetes.io/hostname';

/** The `local-path` StorageClass as k3s ships it. */
export function localPathStorageClass(): StorageClass {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: LOCAL_PATH_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: LOCAL_PATH_PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'WaitForFirstConsumer',
  };
}

/** The directory of a claim's volume under `base` (upstream's `pvc-<uid>_<ns>_<name>`). */
export function volumeDirectory(base: string, claim: PersistentVolumeClaim): string {
  const m = claim.metadata ?? {};
  return posix.join(base, `pvc-${m.uid ?? ''}_${m.namespace ?? ''}_${m.name ?? ''}`);
}

/** The PersistentVolume provisioned for a claim on a node. */
export function provisionedVolume(
  claim: PersistentVolumeClaim,
  sc: StorageClass,
  node: Node,
  base: string,
): PersistentVolume {
  const m = claim.metadata ?? {};
  const hostnameValue = node.metadata?.labels?.[HOSTNAME_LABEL] ?? node.metadata?.name ?? '';
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${m.uid ?? ''}`,
      annotations: { [ANN_DYNAMICALLY_PROVISIONED]: LOCAL_PATH_PROVISIONER },
    },
    spec: {
      persistentVolumeReclaimPolicy: sc.reclaimPolicy ?? 'Delete',
      storageClassName: sc.metadata?.name ?? '',
      accessModes: [...(claim.spec?.accessModes ?? [])],
      volumeMode: claim.spec?.volumeMode ?? 'Filesystem',
      capacity: { storage: claim.spec?.resources?.requests?.storage ?? '0' },
      hostPath: { path: volumeDirectory(base, claim), type: 'DirectoryOrCreate' },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: HOSTNAME_LABEL, operator: 'In', values: [hostnameValue] }] },
          ],
        },
      },
      claimRef: {
        kind: 'PersistentVolumeClaim',
        apiVersion: 'v1',
        namespace: m.namespace ?? '',
        name: m.name ?? '',
        uid: m.uid ?? '',
        ...(m.resourceVersion !== undefined ? { resourceVersion: m.resourceVersion } : {}),
      },
      ...(sc.mountOptions !== undefined ? { mountOptions: [...sc.mountOptions] } : {}),
    },
  };
}

/** The node a local volume lives on (from its node affinity). */
export function volumeNode(pv: PersistentVolume): string | undefined {
  for (const t of pv.spec?.nodeAffinity?.required?.nodeSelectorTerms ?? []) {
    for (const e of t.matchExpressions ?? []) {
      if (e.key === HOSTNAME_LABEL && e.operator === 'In' && e.values?.[0] !== undefined) return e.values[0];
    }
  }
  return undefined;
}

/** The pod that removes a released volume's directory on its node. */
export function deleteHelperPod(pv: PersistentVolume, nodeName: string, dir: string): Pod {
  const parent = posix.dirname(dir);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: `${DELETE_HELPER_PREFIX}${pv.metadata?.name ?? ''}`, namespace: HELPER_NAMESPACE },
    spec: {
      nodeName,
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      tolerations: [{ operator: 'Exists' }],
      containers: [
        {
          name: 'helper-pod',
          image: BUSYBOX_IMAGE,
          imagePullPolicy: 'IfNotPresent',
          command: ['/bin/sh', '-c', 'rm -rf "$VOL_DIR"'],
          env: [
            { name: 'VOL_DIR', value: dir },
            { name: 'VOL_MODE', value: pv.spec?.volumeMode ?? 'Filesystem' },
            { name: 'VOL_SIZE_BYTES', value: pv.spec?.capacity?.storage ?? '0' },
          ],
          volumeMounts: [{ name: 'data', mountPath: parent }],
        },
      ],
      volumes: [{ name: 'data', hostPath: { path: parent, type: 'DirectoryOrCreate' } }],
    },
  };
}

/** Settings of the provisioner. */
export interface LocalPathOptions {
  /** The directory on every node under which volumes are created. */
  baseDir: string;
}

/** The local-path-provisioner controller. */
export class LocalPathProvisioner implements Controller {
  readonly name = 'local-path-provisioner';
  /** Claim keys waiting to be provisioned. */
  readonly claimQueue: RateLimitingQueue<string>;
  /** Volume names waiting to be deleted. */
  readonly volumeQueue: RateLimitingQueue<string>;
  private readonly claimLoop: SyncLoop;
  private readonly volumeLoop: SyncLoop;
  private readonly client: Client;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly recorder: EventRecorder;
  private readonly claims: Lister<PersistentVolumeClaim>;
  private readonly volumes: Lister<PersistentVolume>;
  private readonly classes: Lister<StorageClass>;
  private readonly nodes: Lister<Node>;
  private readonly pods: Lister<Pod>;
  private readonly synced: Array<Pick<SharedIndexInformer<KubeObject>, 'waitForSync'>>;

  /** Wires the informer handlers. */
  constructor(
    ctx: ControllerContext,
    private readonly opts: LocalPathOptions,
  ) {
    this.client = ctx.client;
    this.clock = ctx.clock;
    this.log = ctx.log;
    // Upstream's events name the provisioner and its instance.
    this.recorder = ctx.recorder(`${LOCAL_PATH_PROVISIONER}_${hostname()}`);
    this.claimLoop = new SyncLoop('local-path-claims', ctx.log, ctx.clock);
    this.volumeLoop = new SyncLoop('local-path-volumes', ctx.log, ctx.clock);
    this.claimQueue = this.claimLoop.queue;
    this.volumeQueue = this.volumeLoop.queue;
    const { pvc, pv, sc, node, synced } = storageInformers(ctx);
    const pod = ctx.informers.forResource(PODS);
    this.claims = pvc.lister;
    this.volumes = pv.lister;
    this.classes = sc.lister;
    this.nodes = node.lister;
    this.pods = pod.lister;
    this.synced = [...synced, pod.informer];
    const onClaim = (c: PersistentVolumeClaim): void => {
      if (this.wantsVolume(c)) this.claimQueue.add(metaNamespaceKeyFunc(c));
    };
    pvc.informer.addEventHandler({ onAdd: onClaim, onUpdate: (_o, n) => onClaim(n) });
    const onVolume = (v: PersistentVolume): void => {
      if (this.isOurs(v) && v.status?.phase === 'Released') this.volumeQueue.add(v.metadata?.name ?? '');
    };
    pv.informer.addEventHandler({ onAdd: onVolume, onUpdate: (_o, n) => onVolume(n) });
    // A helper pod's progress moves its volume's deletion on.
    const onPod = (o: Pod | DeletedFinalStateUnknown<Pod>): void => {
      const p = unwrapTombstone(o);
      const name = p.metadata?.name ?? '';
      if (p.metadata?.namespace === HELPER_NAMESPACE && name.startsWith(DELETE_HELPER_PREFIX))
        this.volumeQueue.add(name.slice(DELETE_HELPER_PREFIX.length));
    };
    pod.informer.addEventHandler({ onAdd: onPod, onUpdate: (_o, n) => onPod(n), onDelete: onPod });
  }

  async run(signal: AbortSignal): Promise<void> {
    await this.ensureStorageClass(signal);
    await Promise.all([
      this.claimLoop.run(signal, 2, (k) => this.syncClaim(k), this.synced),
      this.volumeLoop.run(signal, 2, (k) => this.syncVolume(k), this.synced),
    ]);
  }

  /** Creates the `local-path` class unless a class of that name exists; retried until done. */
  async ensureStorageClass(signal?: AbortSignal): Promise<void> {
    const backoff = new Backoff({ initialMs: 500, maxMs: 10_000 }, this.clock);
    while (signal?.aborted !== true) {
      try {
        await this.client.resource(STORAGECLASSES).get('', LOCAL_PATH_CLASS);
        return;
      } catch (err) {
        if (isNotFound(err)) {
          try {
            await this.client.resource(STORAGECLASSES).create('', localPathStorageClass());
            this.log.info('created the default StorageClass', { storageClass: LOCAL_PATH_CLASS });
            return;
          } catch (e) {
            if (isAlreadyExists(e)) return;
            this.log.error('creating the local-path StorageClass failed', { error: errorText(e) });
          }
        } else {
          this.log.error('reading the local-path StorageClass failed', { error: errorText(err) });
        }
      }
      await this.clock.sleep(backoff.next(), signal).catch(() => {});
    }
  }

  private isOurs(v: PersistentVolume): boolean {
    return v.metadata?.annotations?.[ANN_DYNAMICALLY_PROVISIONED] === LOCAL_PATH_PROVISIONER;
  }

  // The claim was handed to us, is still unbound and not going away.
  private wantsVolume(c: PersistentVolumeClaim): boolean {
    const a = c.metadata?.annotations ?? {};
    const asked = a[ANN_STORAGE_PROVISIONER] ?? a[ANN_BETA_STORAGE_PROVISIONER];
    return (
      asked === LOCAL_PATH_PROVISIONER &&
      (c.spec?.volumeName ?? '') === '' &&
      c.metadata?.deletionTimestamp === undefined
    );
  }

  /** Provisions a volume for the claim with this key, when it still needs one. */
  async syncClaim(key: string): Promise<void> {
    const claim = this.claims.getByKey(key);
    if (claim === undefined || !this.wantsVolume(claim)) return;
    const className = claimClass(claim);
    const sc = this.classes.getByKey(className);
    if (sc === undefined || sc.provisioner !== LOCAL_PATH_PROVISIONER) return;
    const nodeName = claim.metadata?.annotations?.[ANN_SELECTED_NODE];
    // WaitForFirstConsumer: the scheduler has not chosen yet. Immediate classes cannot be
    // served: a local volume needs a node, and nothing names one.
    if (nodeName === undefined) {
      if (sc.volumeBindingMode !== 'WaitForFirstConsumer') {
        this.recorder.event(
          claim,
          'Warning',
          'ProvisioningFailed',
          'failed to provision volume with StorageClass "' +
            className +
            '": configuration error, no node was specified',
        );
      }
      return;
    }
    const pvName = `pvc-${claim.metadata?.uid ?? ''}`;
    if (this.volumes.getByKey(pvName) !== undefined) return;
    const node = this.nodes.getByKey(nodeName);
    if (node === undefined) {
      this.recorder.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": nodes "${nodeName}" not found`,
      );
      throw new Error(`selected node ${nodeName} of claim ${key} not found`);
    }
    this.recorder.event(
      claim,
      'Normal',
      'Provisioning',
      `External provisioner is provisioning volume for claim "${key}"`,
    );
    try {
      await this.client
        .resource(PERSISTENTVOLUMES)
        .create('', provisionedVolume(claim, sc, node, this.opts.baseDir));
    } catch (err) {
      if (isAlreadyExists(err)) return;
      this.recorder.event(
        claim,
        'Warning',
        'ProvisioningFailed',
        `failed to provision volume with StorageClass "${className}": ${errorText(err)}`,
      );
      throw err;
    }
    this.log.info('provisioned volume', { pvc: key, pv: pvName, node: nodeName });
    this.recorder.event(
      claim,
      'Normal',
      'ProvisioningSucceeded',
      `Successfully provisioned volume ${pvName}`,
    );
  }

  /** Removes a released volume's directory through a helper pod, then the volume. */
  async syncVolume(name: string): Promise<void> {
    const pv = this.volumes.getByKey(name);
    const helperName = `${DELETE_HELPER_PREFIX}${name}`;
    const helper = this.pods
      .namespace(HELPER_NAMESPACE)
      .list()
      .find((p) => p.metadata?.name === helperName);
    if (pv === undefined || !this.isOurs(pv) || pv.status?.phase !== 'Released') {
      // The volume is gone (or back in use): a finished helper has nothing left to do.
      if (helper !== undefined && pv === undefined) await this.deletePod(helperName);
      return;
    }
    if (pv.spec?.persistentVolumeReclaimPolicy !== 'Delete') return;
    const dir = pv.spec.hostPath?.path;
    const nodeName = this.nodeNamed(volumeNode(pv));
    // Only a directory this provisioner made is ever removed.
    if (dir === undefined || nodeName === undefined || !this.ownsDirectory(dir)) {
      await this.deleteVolume(name);
      return;
    }
    if (helper === undefined) {
      try {
        await this.client.resource(PODS).create(HELPER_NAMESPACE, deleteHelperPod(pv, nodeName, dir));
      } catch (err) {
        if (!isAlreadyExists(err)) throw err;
      }
      return;
    }
    if (helper.status?.phase === 'Succeeded') {
      await this.deletePod(helperName);
      await this.deleteVolume(name);
      return;
    }
    if (helper.status?.phase === 'Failed') {
      const message = `failed to delete volume ${name}: helper pod ${HELPER_NAMESPACE}/${helperName} failed`;
      this.recorder.event(pv, 'Warning', 'VolumeFailedDelete', message);
      await this.deletePod(helperName);
      throw new Error(message);
    }
  }

  // The node whose hostname label is `hostnameValue` (usually the node's own name).
  private nodeNamed(hostnameValue: string | undefined): string | undefined {
    if (hostnameValue === undefined) return undefined;
    const byLabel = this.nodes.list().find((n) => n.metadata?.labels?.[HOSTNAME_LABEL] === hostnameValue);
    return byLabel?.metadata?.name ?? hostnameValue;
  }

  private ownsDirectory(dir: string): boolean {
    const base = posix.resolve(this.opts.baseDir);
    const resolved = posix.resolve(dir);
    return posix.dirname(resolved) === base && posix.basename(resolved).startsWith('pvc-');
  }

  private async deletePod(name: string): Promise<void> {
    try {
      await this.client.resource(PODS).delete(HELPER_NAMESPACE, name, { gracePeriodSeconds: 0 });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }

  private async deleteVolume(name: string): Promise<void> {
    try {
      await this.client.resource(PERSISTENTVOLUMES).delete('', name);
      this.log.info('deleted volume', { pv: name });
    } catch (err) {
      if (!isNotFound(err)) throw err;
    }
  }
}
