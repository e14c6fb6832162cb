// The Node authorizer: a kubelet (user `system:node:<name>` in group `system:nodes`) may
// read the secrets, config maps, claims, volumes and service-account tokens of the pods
// bound to its node, read and write its own Node and Lease, and otherwise holds the static
// system:node rules. It answers only for node identities (no opinion for anyone else), and
// its denials carry upstream's reasons ("no relationship found between node 'n1' and this
// object"), which the 403 message appends.
import type { PolicyRule } from '../../../api/generated/types/rbac-v1.js';
import type { AuthzAttributes, Decision } from '../../endpoints/reviews.js';
import type { UserInfo } from '../../endpoints/scope.js';
import { nodeRules } from './bootstrap-policy.js';
import type { NodeGraph, VertexType } from './node-graph.js';
import { rulesAllow } from './rules.js';

const NODE_USER_PREFIX = 'system:node:';
/** The group every node identity belongs to. */
export const NODES_GROUP = 'system:nodes';
const NODE_LEASE_NAMESPACE = 'kube-node-lease';

/** The node name of a node identity, or undefined for anyone else. */
export function nodeIdentity(user: UserInfo): string | undefined {
  if (!user.groups.includes(NODES_GROUP)) return undefined;
  if (!user.username.startsWith(NODE_USER_PREFIX)) return undefined;
  return user.username.slice(NODE_USER_PREFIX.length);
}

/**
 * Attributes with the request's field selector, when the server passes it along. Without
 * it, list/watch of pods falls back to the pre-1.32 behaviour (allowed by the node rules).
 */
export type NodeAuthzAttributes = AuthzAttributes & { fieldSelector?: string };

const ALLOW: Decision = { allowed: true, reason: '' };

function noOpinion(reason = ''): Decision {
  return { allowed: false, reason };
}

function selectorRequires(selector: string, field: string, value: string): boolean {
  for (const term of selector.split(',')) {
    const m = /^\s*([^=!\s]+)\s*==?\s*(.*?)\s*$/.exec(term);
    if (m && m[1] === field && m[2] === value) return true;
  }
  return false;
}

/** The Node authorizer over a node graph. */
export class NodeAuthorizer {
  private readonly rules: PolicyRule[] = nodeRules();

  constructor(private readonly graph: NodeGraph) {}

  /** Decides for node identities; no opinion ('' reason) for other users. */
  authorize(a: NodeAuthzAttributes): Decision {
    const node = nodeIdentity(a.user);
    if (node === undefined) return noOpinion();
    if (node === '') return noOpinion(`unknown node for user ${JSON.stringify(a.user.username)}`);
    if (a.resourceRequest) {
      switch (`${a.apiGroup}/${a.resource}`) {
        case '/secrets':
          return this.readNamespaced(node, 'secret', a);
        case '/configmaps':
          return this.readNamespaced(node, 'configmap', a);
        case '/persistentvolumeclaims':
          if (a.subresource === 'status') return this.statusUpdate(node, 'pvc', a);
          return this.get(node, 'pvc', a);
        case '/persistentvolumes':
          return this.get(node, 'pv', a);
        case 'storage.k8s.io/volumeattachments':
          return this.get(node, 'volumeattachment', a);
        case '/serviceaccounts':
          return this.createToken(node, a);
        case 'coordination.k8s.io/leases':
          return this.lease(node, a);
        case 'storage.k8s.io/csinodes':
          return this.csiNode(node, a);
        case '/pods':
          return this.pod(node, a);
        case '/nodes':
          return this.nodeObject(node, a);
      }
    }
    return rulesAllow(a, this.rules) ? ALLOW : noOpinion();
  }

  private related(node: string, type: VertexType, a: AuthzAttributes): Decision {
    if (a.name === '') return noOpinion('No Object name found');
    if (this.graph.hasPathFrom(node, type, a.namespace, a.name)) return ALLOW;
    return noOpinion(`no relationship found between node '${node}' and this object`);
  }

  private readNamespaced(node: string, type: VertexType, a: AuthzAttributes): Decision {
    if (a.verb !== 'get' && a.verb !== 'list' && a.verb !== 'watch') {
      return noOpinion('can only read resources of this type');
    }
    if (a.subresource !== '') return noOpinion('cannot read subresource');
    if (a.namespace === '') return noOpinion('can only read namespaced object of this type');
    return this.related(node, type, a);
  }

  private get(node: string, type: VertexType, a: AuthzAttributes): Decision {
    if (a.verb !== 'get') return noOpinion('can only get individual resources of this type');
    if (a.subresource !== '') return noOpinion('cannot get subresource');
    return this.related(node, type, a);
  }

  private statusUpdate(node: string, type: VertexType, a: AuthzAttributes): Decision {
    if (a.verb !== 'update' && a.verb !== 'patch') return noOpinion('can only get/update/patch this type');
    if (a.subresource !== 'status') return noOpinion('can only update status subresource');
    return this.related(node, type, a);
  }

  private createToken(node: string, a: AuthzAttributes): Decision {
    if (a.verb !== 'create' || a.name === '') {
      return noOpinion('can only create tokens for individual service accounts');
    }
    if (a.subresource !== 'token') return noOpinion('can only create token subresource of serviceaccount');
    return this.related(node, 'serviceaccount', a);
  }

  private lease(node: string, a: AuthzAttributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a node lease');
    }
    if (a.namespace !== NODE_LEASE_NAMESPACE) {
      return noOpinion(
        `can only access leases in the ${JSON.stringify(NODE_LEASE_NAMESPACE)} system namespace`,
      );
    }
    // The name is unknown at create time; NodeRestriction admission checks it then.
    if (a.verb !== 'create' && a.name !== node) {
      return noOpinion('can only access node lease with the same name as the requesting node');
    }
    return ALLOW;
  }

  private csiNode(node: string, a: AuthzAttributes): Decision {
    if (!['get', 'create', 'update', 'patch', 'delete'].includes(a.verb)) {
      return noOpinion('can only get, create, update, patch, or delete a CSINode');
    }
    if (a.subresource !== '') return noOpinion('cannot authorize CSINode subresources');
    if (a.verb !== 'create' && a.name !== node) {
      return noOpinion('can only access CSINode with the same name as the requesting node');
    }
    return ALLOW;
  }

  private pod(node: string, a: NodeAuthzAttributes): Decision {
    if (a.verb === 'get') return this.get(node, 'pod', a);
    if (a.verb === 'list' || a.verb === 'watch') {
      if (a.fieldSelector === undefined) return rulesAllow(a, this.rules) ? ALLOW : noOpinion();
      if (selectorRequires(a.fieldSelector, 'spec.nodeName', node)) return ALLOW;
      return noOpinion('can only list/watch pods with spec.nodeName field selector');
    }
    return rulesAllow(a, this.rules) ? ALLOW : noOpinion();
  }

  private nodeObject(node: string, a: AuthzAttributes): Decision {
    if (a.subresource === '') {
      if (a.verb === 'create' || a.verb === 'update' || a.verb === 'patch') return ALLOW;
      if (a.verb === 'get' || a.verb === 'list' || a.verb === 'watch') {
        if (a.name === node) return ALLOW;
        if (a.name === '') return noOpinion(`node '${node}' cannot read all nodes, only its own Node object`);
        return noOpinion(`node '${node}' cannot read '${a.name}', only its own Node object`);
      }
    } else if (a.subresource === 'status' && (a.verb === 'update' || a.verb === 'patch')) {
      return ALLOW;
    }
    return noOpinion();
  }
}
