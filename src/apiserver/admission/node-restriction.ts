// NodeRestriction (upstream plugin/pkg/admission/noderestriction): a kubelet, user
// `system:node:<name>` in group `system:nodes`, may only create mirror pods bound to
// itself, delete and update the status of pods bound to itself, change its own Node object
// (but not its taints or the labels reserved for administrators), its own Lease and
// CSINode, and request tokens only for pods on itself. Messages are upstream's.
import type { Node, Pod } from '../../api/generated/types/core-v1.js';
import type { StoreRegistry } from '../stores.js';
import {
  asPod,
  denied,
  getOrUndefined,
  isMirrorPod,
  isResource,
  MIRROR_POD_ANNOTATION,
  sortStrings,
} from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';
import { notFound } from '../../machinery/status-error.js';
import { jsonEqual } from '../registry/object.js';

const NODE_PREFIX = 'system:node:';
const NODES_GROUP = 'system:nodes';

/** The node a user acts for: `{isNode, name}` (name '' when the user is a node without one). */
export function nodeIdentity(user: { username: string; groups: string[] }): {
  isNode: boolean;
  name: string;
} {
  if (!user.username.startsWith(NODE_PREFIX)) return { isNode: false, name: '' };
  if (!user.groups.includes(NODES_GROUP)) return { isNode: false, name: '' };
  return { isNode: true, name: user.username.slice(NODE_PREFIX.length) };
}

const KUBELET_LABELS = new Set([
  'kubernetes.io/hostname',
  'kubernetes.io/arch',
  'kubernetes.io/os',
  'beta.kubernetes.io/arch',
  'beta.kubernetes.io/os',
  'beta.kubernetes.io/instance-type',
  'node.kubernetes.io/instance-type',
  'failure-domain.beta.kubernetes.io/region',
  'failure-domain.beta.kubernetes.io/zone',
  'topology.kubernetes.io/region',
  'topology.kubernetes.io/zone',
]);
const KUBELET_LABEL_NAMESPACES = ['kubelet.kubernetes.io', 'node.kubernetes.io'];

function labelNamespace(key: string): string {
  const i = key.indexOf('/');
  return i < 0 ? '' : key.slice(0, i);
}

function isKubeletLabel(key: string): boolean {
  if (KUBELET_LABELS.has(key)) return true;
  const ns = labelNamespace(key);
  return KUBELET_LABEL_NAMESPACES.some((n) => ns === n || ns.endsWith(`.${n}`));
}

function isKubernetesLabel(key: string): boolean {
  const ns = labelNamespace(key);
  return ns === 'kubernetes.io' || ns.endsWith('.kubernetes.io') || ns === 'k8s.io' || ns.endsWith('.k8s.io');
}

function modifiedLabels(
  a: Record<string, string> | undefined,
  b: Record<string, string> | undefined,
): Set<string> {
  const out = new Set<string>();
  for (const [k, v] of Object.entries(a ?? {})) if (b?.[k] !== v) out.add(k);
  for (const [k, v] of Object.entries(b ?? {})) if (a?.[k] !== v) out.add(k);
  return out;
}

/** Labels a kubelet may not set: node-restriction ones and unknown kubernetes.io/k8s.io ones. */
export function forbiddenNodeLabels(modified: Iterable<string>): string[] {
  const out = new Set<string>();
  for (const label of modified) {
    const ns = labelNamespace(label);
    if (ns === 'node-restriction.kubernetes.io' || ns.endsWith('.node-restriction.kubernetes.io'))
      out.add(label);
    if (isKubernetesLabel(label) && !isKubeletLabel(label)) out.add(label);
  }
  return sortStrings(out);
}

function podCreate(
  req: AdmissionRequest,
  node: string,
  pod: Pod,
  nodeUid: () => Promise<string | undefined>,
): Promise<void> | void {
  if (!isMirrorPod(pod)) {
    throw denied(
      req,
      `pod does not have "${MIRROR_POD_ANNOTATION}" annotation, node "${node}" can only create mirror pods`,
    );
  }
  if (pod.spec?.nodeName !== node)
    throw denied(req, `node "${node}" can only create pods with spec.nodeName set to itself`);
  const owners = pod.metadata?.ownerReferences ?? [];
  if (owners.length > 1)
    throw denied(req, `node "${node}" can only create pods with a single owner reference set to itself`);
  if (owners.length === 0)
    throw denied(req, `node "${node}" can only create pods with an owner reference set to itself`);
  const owner = owners[0]!;
  if (owner.apiVersion !== 'v1' || owner.kind !== 'Node' || owner.name !== node) {
    throw denied(req, `node "${node}" can only create pods with an owner reference set to itself`);
  }
  if (owner.controller !== true) {
    throw denied(req, `node "${node}" can only create pods with a controller owner reference set to itself`);
  }
  if (owner.blockOwnerDeletion === true) {
    throw denied(req, `node "${node}" must not set blockOwnerDeletion on an owner reference`);
  }
  return (async () => {
    const uid = await nodeUid();
    if (uid === undefined) throw notFound({ group: '', resource: 'nodes' }, node);
    if (owner.uid !== uid) throw denied(req, `node ${node} UID mismatch: expected ${owner.uid} got ${uid}`);
    const spec = pod.spec;
    if (spec?.serviceAccountName)
      throw denied(req, `node "${node}" can not create pods that reference a service account`);
    const vols = spec?.volumes ?? [];
    const containers = [
      ...(spec?.initContainers ?? []),
      ...(spec?.containers ?? []),
      ...(spec?.ephemeralContainers ?? []),
    ];
    const secrets =
      (spec?.imagePullSecrets ?? []).length > 0 ||
      vols.some(
        (v) =>
          v.secret ||
          (v.projected?.sources ?? []).some((s) => s.secret) ||
          v.cephfs?.secretRef ||
          v.flexVolume?.secretRef ||
          v.csi?.nodePublishSecretRef,
      ) ||
      containers.some(
        (c) =>
          (c.env ?? []).some((e) => e.valueFrom?.secretKeyRef) || (c.envFrom ?? []).some((e) => e.secretRef),
      );
    if (secrets) throw denied(req, `node "${node}" can not create pods that reference secrets`);
    const configMaps =
      vols.some((v) => v.configMap || (v.projected?.sources ?? []).some((s) => s.configMap)) ||
      containers.some(
        (c) =>
          (c.env ?? []).some((e) => e.valueFrom?.configMapKeyRef) ||
          (c.envFrom ?? []).some((e) => e.configMapRef),
      );
    if (configMaps) throw denied(req, `node "${node}" can not create pods that reference configmaps`);
    if (vols.some((v) => (v.projected?.sources ?? []).some((s) => s.clusterTrustBundle))) {
      throw denied(req, `node "${node}" can not create pods that reference clustertrustbundles`);
    }
    if (vols.some((v) => v.persistentVolumeClaim)) {
      throw denied(req, `node "${node}" can not create pods that reference persistentvolumeclaims`);
    }
  })();
}

/** The NodeRestriction plugin. */
export function nodeRestriction(stores: StoreRegistry): AdmissionPlugin {
  const pod = async (ns: string, name: string) => asPod(await getOrUndefined(stores, '', 'pods', ns, name));

  async function admitPod(req: AdmissionRequest, node: string): Promise<void> {
    switch (req.subresource) {
      case '':
        if (req.operation === 'CREATE') {
          const p = asPod(req.object);
          if (!p) return;
          return podCreate(
            req,
            node,
            p,
            async () => (await getOrUndefined(stores, '', 'nodes', '', node))?.metadata?.uid,
          );
        }
        if (req.operation === 'DELETE') {
          const existing = await pod(req.namespace, req.name);
          if (!existing) throw notFound({ group: '', resource: 'pods' }, req.name);
          if (existing.spec?.nodeName !== node) {
            throw denied(req, `node "${node}" can only delete pods with spec.nodeName set to itself`);
          }
          return;
        }
        throw denied(
          req,
          `unexpected operation "${req.operation}", node "${node}" can only create and delete mirror pods`,
        );
      case 'status': {
        if (req.operation !== 'UPDATE') throw denied(req, `unexpected operation "${req.operation}"`);
        const old = asPod(req.oldObject);
        const cur = asPod(req.object);
        if (old?.spec?.nodeName !== node) {
          throw denied(
            req,
            `node "${node}" can only update pod status for pods with spec.nodeName set to itself`,
          );
        }
        if (!jsonEqual(old?.metadata?.labels ?? {}, cur?.metadata?.labels ?? {})) {
          throw denied(req, `node "${node}" cannot update labels through pod status`);
        }
        return;
      }
      case 'eviction': {
        if (req.operation !== 'CREATE') throw denied(req, `unexpected operation ${req.operation}`);
        const name = req.name || (req.object?.metadata?.name ?? '');
        if (name === '') throw denied(req, 'could not determine pod from request data');
        const existing = await pod(req.namespace, name);
        if (!existing) throw notFound({ group: '', resource: 'pods' }, name);
        if (existing.spec?.nodeName !== node) {
          throw denied(req, `node ${node} can only evict pods with spec.nodeName set to itself`);
        }
        return;
      }
      default:
        throw denied(
          req,
          `unexpected pod subresource "${req.subresource}", only 'status' and 'eviction' are allowed`,
        );
    }
  }

  function admitNode(req: AdmissionRequest, node: string): void {
    const requested = req.name || (req.object?.metadata?.name ?? '');
    if (requested !== node) throw denied(req, `node "${node}" is not allowed to modify node "${requested}"`);
    const cur = req.object as unknown as Node | undefined;
    if (req.operation === 'CREATE' && cur) {
      if (cur.spec?.configSource) {
        throw denied(req, `node "${node}" is not allowed to create pods with a non-nil configSource`);
      }
      const bad = forbiddenNodeLabels(modifiedLabels(cur.metadata?.labels, undefined));
      if (bad.length > 0)
        throw denied(req, `node "${node}" is not allowed to set the following labels: ${bad.join(', ')}`);
    }
    if (req.operation === 'UPDATE' && cur) {
      const old = req.oldObject as unknown as Node | undefined;
      if (cur.spec?.configSource && !jsonEqual(cur.spec.configSource, old?.spec?.configSource)) {
        throw denied(
          req,
          `node "${node}" is not allowed to update configSource to a new non-nil configSource`,
        );
      }
      if (!jsonEqual(cur.spec?.taints ?? [], old?.spec?.taints ?? [])) {
        throw denied(req, `node "${node}" is not allowed to modify taints`);
      }
      const bad = forbiddenNodeLabels(modifiedLabels(cur.metadata?.labels, old?.metadata?.labels));
      if (bad.length > 0) throw denied(req, `is not allowed to modify labels: ${bad.join(', ')}`);
    }
  }

  return {
    name: 'NodeRestriction',
    async admit(req: AdmissionRequest): Promise<void> {
      const id = nodeIdentity(req.user);
      if (!id.isNode) return;
      if (id.name === '') throw denied(req, `could not determine node from user "${req.user.username}"`);
      const node = id.name;
      if (isResource(req, '', 'pods')) return admitPod(req, node);
      if (isResource(req, '', 'nodes')) return admitNode(req, node);
      if (isResource(req, '', 'persistentvolumeclaims')) {
        if (req.subresource !== 'status') throw denied(req, 'may only update PVC status');
        return;
      }
      if (isResource(req, 'coordination.k8s.io', 'leases')) {
        if (req.namespace !== 'kube-node-lease') {
          throw denied(req, `can only access leases in the "kube-node-lease" system namespace`);
        }
        const name = req.name || (req.object?.metadata?.name ?? '');
        if (name !== node)
          throw denied(req, 'can only access node lease with the same name as the requesting node');
        return;
      }
      if (isResource(req, 'storage.k8s.io', 'csinodes')) {
        const name = req.name || (req.object?.metadata?.name ?? '');
        if (name !== node)
          throw denied(req, 'can only access CSINode with the same name as the requesting node');
        return;
      }
      if (
        isResource(req, '', 'serviceaccounts') &&
        req.subresource === 'token' &&
        req.operation === 'CREATE'
      ) {
        const ref = (
          req.object?.spec as
            | { boundObjectRef?: { apiVersion?: string; kind?: string; name?: string; uid?: string } }
            | undefined
        )?.boundObjectRef;
        if (ref?.apiVersion !== 'v1' || ref.kind !== 'Pod' || !ref.name) {
          throw denied(req, 'node requested token not bound to a pod');
        }
        if (!ref.uid) throw denied(req, 'node requested token with a pod binding without a uid');
        const p = await pod(req.namespace, ref.name);
        if (!p) throw notFound({ group: '', resource: 'pods' }, ref.name);
        if (ref.uid !== p.metadata?.uid) {
          throw denied(
            req,
            `the UID in the bound object reference (${ref.uid}) does not match the UID in record. The object might have been deleted and then recreated`,
          );
        }
        if (p.spec?.nodeName !== node)
          throw denied(req, 'node requested token bound to a pod scheduled on a different node');
      }
    },
  };
}
