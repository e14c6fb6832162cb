// Nodes: readiness (plus SchedulingDisabled when cordoned), roles from labels, versions
// and, wide, addresses and the node's software.
import type { Node, NodeAddress } from '../../api/generated/types/core-v1.js';
import type { KObject } from '../registry/object.js';
import { AGE_COLUMN, NAME_COLUMN, age, byteCompare, column, nameOf } from './format.js';
import type { ResourcePrinter } from './table.js';

const ROLE_LABEL_PREFIX = 'node-role.kubernetes.io/';
const ROLE_LABEL = 'kubernetes.io/role';

/** `Ready`, `NotReady` or `Unknown`, then `SchedulingDisabled` when unschedulable. */
export function nodeStatusCell(node: Node): string {
  // Upstream keeps the last condition of each type, and only the Ready type is shown.
  let ready: string | undefined;
  for (const c of node.status?.conditions ?? []) if (c.type === 'Ready') ready = c.status;
  let out = ready === undefined ? 'Unknown' : ready === 'True' ? 'Ready' : 'NotReady';
  if (node.spec?.unschedulable) out += ',SchedulingDisabled';
  return out;
}

/** Sorted roles from `node-role.kubernetes.io/<role>` and `kubernetes.io/role=<role>` labels. */
export function nodeRolesCell(obj: KObject): string {
  const labels = obj.metadata?.labels;
  if (!labels) return '<none>';
  const roles = new Set<string>();
  for (const k in labels) {
    if (k.startsWith(ROLE_LABEL_PREFIX)) {
      const role = k.slice(ROLE_LABEL_PREFIX.length);
      if (role !== '') roles.add(role);
    } else if (k === ROLE_LABEL && labels[k]) roles.add(labels[k] as string);
  }
  if (roles.size === 0) return '<none>';
  return [...roles].sort(byteCompare).join(',');
}

function addressOf(addresses: NodeAddress[] | undefined, type: string): string {
  for (const a of addresses ?? []) if (a.type === type) return a.address;
  return '<none>';
}

/** Nodes. */
export const NODES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Status', 'string', 'Readiness of the node, and whether it takes new pods.'),
    column('Roles', 'string', 'Roles of the node, from its labels.'),
    AGE_COLUMN,
    column('Version', 'string', 'The kubelet version.'),
    column('Internal-IP', 'string', 'The first internal address.', { wide: true }),
    column('External-IP', 'string', 'The first external address.', { wide: true }),
    column('OS-Image', 'string', 'The operating system image.', { wide: true }),
    column('Kernel-Version', 'string', 'The kernel version.', { wide: true }),
    column('Container-Runtime', 'string', 'The container runtime and its version.', { wide: true }),
  ],
  cells(obj, ctx) {
    const node = obj as unknown as Node;
    const info = node.status?.nodeInfo;
    const addresses = node.status?.addresses;
    return [
      nameOf(obj),
      nodeStatusCell(node),
      nodeRolesCell(obj),
      age(obj, ctx.nowMs),
      info?.kubeletVersion ?? '',
      addressOf(addresses, 'InternalIP'),
      addressOf(addresses, 'ExternalIP'),
      info?.osImage || '<unknown>',
      info?.kernelVersion || '<unknown>',
      info?.containerRuntimeVersion || '<unknown>',
    ];
  },
};
