// The relationships the Node authorizer decides on (upstream's node graph, computed from the
// API server's caches): a pod bound to a node links the node to the secrets, config maps,
// persistent volume claims and service account the pod references; a bound claim links on
// to its persistent volume and the secrets that volume references; a volume attachment links
// to its node. Pods are indexed by node, so a question about one node reads only its pods.
import type {
  Pod,
  PersistentVolume,
  PersistentVolumeClaim,
  Volume,
} from '../../../api/generated/types/core-v1.js';
import type { StoreRegistry } from '../../stores.js';
import type { CacheEntry } from '../../registry/watch-cache.js';
import { CacheFollower, type CacheSink } from './cache-follower.js';

/** The kinds of objects a node may reach through its pods. */
export type VertexType =
  | 'pod'
  | 'secret'
  | 'configmap'
  | 'pvc'
  | 'pv'
  | 'serviceaccount'
  | 'volumeattachment';

/** What one pod bound to a node references. */
interface PodRefs {
  namespace: string;
  name: string;
  secrets: Set<string>;
  configMaps: Set<string>;
  pvcs: Set<string>;
  serviceAccount: string;
}

interface ContainerLike {
  env?: Array<{ valueFrom?: { secretKeyRef?: { name?: string }; configMapKeyRef?: { name?: string } } }>;
  envFrom?: Array<{ secretRef?: { name?: string }; configMapRef?: { name?: string } }>;
}

function addName(set: Set<string>, name: string | undefined): void {
  if (name) set.add(name);
}

function volumeRefs(pod: Pod, v: Volume, refs: PodRefs): void {
  addName(refs.secrets, v.secret?.secretName);
  addName(refs.configMaps, v.configMap?.name);
  addName(refs.pvcs, v.persistentVolumeClaim?.claimName);
  if (v.ephemeral) addName(refs.pvcs, `${pod.metadata?.name ?? ''}-${v.name}`);
  for (const src of v.projected?.sources ?? []) {
    addName(refs.secrets, src.secret?.name);
    addName(refs.configMaps, src.configMap?.name);
  }
  addName(refs.secrets, v.azureFile?.secretName);
  addName(refs.secrets, v.cephfs?.secretRef?.name);
  addName(refs.secrets, v.cinder?.secretRef?.name);
  addName(refs.secrets, v.flexVolume?.secretRef?.name);
  addName(refs.secrets, v.iscsi?.secretRef?.name);
  addName(refs.secrets, v.rbd?.secretRef?.name);
  addName(refs.secrets, v.scaleIO?.secretRef?.name);
  addName(refs.secrets, v.storageos?.secretRef?.name);
  addName(refs.secrets, v.csi?.nodePublishSecretRef?.name);
}

/** The references of a pod (upstream VisitPodSecretNames / VisitPodConfigmapNames and claims). */
export function podRefs(pod: Pod): PodRefs {
  const spec = pod.spec;
  const refs: PodRefs = {
    namespace: pod.metadata?.namespace ?? '',
    name: pod.metadata?.name ?? '',
    secrets: new Set(),
    configMaps: new Set(),
    pvcs: new Set(),
    serviceAccount: spec?.serviceAccountName || 'default',
  };
  if (!spec) return refs;
  for (const s of spec.imagePullSecrets ?? []) addName(refs.secrets, s.name);
  const containers: ContainerLike[] = [
    ...(spec.containers ?? []),
    ...(spec.initContainers ?? []),
    ...(spec.ephemeralContainers ?? []),
  ];
  for (const c of containers) {
    for (const e of c.env ?? []) {
      addName(refs.secrets, e.valueFrom?.secretKeyRef?.name);
      addName(refs.configMaps, e.valueFrom?.configMapKeyRef?.name);
    }
    for (const e of c.envFrom ?? []) {
      addName(refs.secrets, e.secretRef?.name);
      addName(refs.configMaps, e.configMapRef?.name);
    }
  }
  for (const v of spec.volumes ?? []) volumeRefs(pod, v, refs);
  return refs;
}

interface PVInfo {
  secrets: Array<{ namespace: string; name: string }>;
}

function pvSecrets(pv: PersistentVolume): Array<{ namespace: string; name: string }> {
  const out: Array<{ namespace: string; name: string }> = [];
  const add = (ref: { name?: string; namespace?: string } | undefined, defaultNs = '') => {
    if (ref?.name) out.push({ namespace: ref.namespace || defaultNs, name: ref.name });
  };
  const s = pv.spec;
  if (!s) return out;
  const csi = s.csi;
  add(csi?.nodePublishSecretRef);
  add(csi?.nodeStageSecretRef);
  add(csi?.controllerPublishSecretRef);
  add(csi?.controllerExpandSecretRef);
  add(csi?.nodeExpandSecretRef);
  if (s.azureFile) add({ name: s.azureFile.secretName, namespace: s.azureFile.secretNamespace ?? 'default' });
  add(s.cephfs?.secretRef);
  add(s.cinder?.secretRef);
  add(s.flexVolume?.secretRef);
  add(s.iscsi?.secretRef);
  add(s.rbd?.secretRef);
  add(s.scaleIO?.secretRef);
  add(s.storageos?.secretRef);
  return out;
}

function key(namespace: string, name: string): string {
  return `${namespace}/${name}`;
}

/** The node graph, kept in step with the pods, claims, volumes and attachments caches. */
export class NodeGraph {
  /** node → pod key → refs. */
  private readonly byNode = new Map<string, Map<string, PodRefs>>();
  /** pod key → node. */
  private readonly podNode = new Map<string, string>();
  /** claim key → bound volume name. */
  private readonly claimVolume = new Map<string, string>();
  private readonly pvs = new Map<string, PVInfo>();
  /** attachment name → node. */
  private readonly attachments = new Map<string, string>();
  private readonly followers: CacheFollower[] = [];

  constructor(stores: StoreRegistry) {
    this.followers.push(
      new CacheFollower(
        stores.byName('', 'pods'),
        this.sink(
          (e) => this.putPod(e),
          (e) => this.dropPod(e),
          () => {
            this.byNode.clear();
            this.podNode.clear();
          },
        ),
      ),
      new CacheFollower(
        stores.byName('', 'persistentvolumeclaims'),
        this.sink(
          (e) => {
            const vol = (e.obj as PersistentVolumeClaim).spec?.volumeName;
            if (vol) this.claimVolume.set(key(e.namespace, e.name), vol);
            else this.claimVolume.delete(key(e.namespace, e.name));
          },
          (e) => this.claimVolume.delete(key(e.namespace, e.name)),
          () => this.claimVolume.clear(),
        ),
      ),
      new CacheFollower(
        stores.byName('', 'persistentvolumes'),
        this.sink(
          (e) => this.pvs.set(e.name, { secrets: pvSecrets(e.obj as PersistentVolume) }),
          (e) => this.pvs.delete(e.name),
          () => this.pvs.clear(),
        ),
      ),
      new CacheFollower(
        stores.byName('storage.k8s.io', 'volumeattachments'),
        this.sink(
          (e) => {
            const node = (e.obj as { spec?: { nodeName?: string } }).spec?.nodeName;
            if (node) this.attachments.set(e.name, node);
            else this.attachments.delete(e.name);
          },
          (e) => this.attachments.delete(e.name),
          () => this.attachments.clear(),
        ),
      ),
    );
  }

  private sink(put: (e: CacheEntry) => void, drop: (e: CacheEntry) => void, clear: () => void): CacheSink {
    return {
      reset: (entries) => {
        clear();
        for (const e of entries) put(e);
      },
      event: (ev) => (ev.type === 'DELETED' ? drop(ev.cur) : put(ev.cur)),
    };
  }

  private putPod(e: CacheEntry): void {
    this.dropPod(e);
    const pod = e.obj as Pod;
    const node = pod.spec?.nodeName;
    if (!node) return;
    const k = key(e.namespace, e.name);
    let pods = this.byNode.get(node);
    if (!pods) {
      pods = new Map();
      this.byNode.set(node, pods);
    }
    pods.set(k, podRefs(pod));
    this.podNode.set(k, node);
  }

  private dropPod(e: CacheEntry): void {
    const k = key(e.namespace, e.name);
    const node = this.podNode.get(k);
    if (node === undefined) return;
    this.podNode.delete(k);
    const pods = this.byNode.get(node);
    pods?.delete(k);
    if (pods && pods.size === 0) this.byNode.delete(node);
  }

  /** Loads the caches and starts following them. */
  async start(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.start()));
  }

  /** Resolves once every change committed before the call is reflected. */
  async synced(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.synced()));
  }

  /** True when the object is reachable from the node. */
  hasPathFrom(node: string, type: VertexType, namespace: string, name: string): boolean {
    if (type === 'pod') return this.podNode.get(key(namespace, name)) === node;
    if (type === 'volumeattachment') return this.attachments.get(name) === node;
    const pods = this.byNode.get(node);
    if (!pods) return false;
    for (const p of pods.values()) {
      switch (type) {
        case 'secret':
          if (p.namespace === namespace && p.secrets.has(name)) return true;
          if (this.volumeSecretsOf(p).some((s) => s.namespace === namespace && s.name === name)) return true;
          break;
        case 'configmap':
          if (p.namespace === namespace && p.configMaps.has(name)) return true;
          break;
        case 'pvc':
          if (p.namespace === namespace && p.pvcs.has(name)) return true;
          break;
        case 'serviceaccount':
          if (p.namespace === namespace && p.serviceAccount === name) return true;
          break;
        case 'pv':
          for (const c of p.pvcs) if (this.claimVolume.get(key(p.namespace, c)) === name) return true;
          break;
      }
    }
    return false;
  }

  private volumeSecretsOf(p: PodRefs): Array<{ namespace: string; name: string }> {
    const out: Array<{ namespace: string; name: string }> = [];
    for (const c of p.pvcs) {
      const vol = this.claimVolume.get(key(p.namespace, c));
      const pv = vol === undefined ? undefined : this.pvs.get(vol);
      if (pv) out.push(...pv.secrets);
    }
    return out;
  }

  /** Stops following the caches. */
  close(): void {
    for (const f of this.followers) f.close();
  }
}
