// RBAC escalation prevention (upstream does this in the roles' and bindings' REST storage;
// kts runs it as a validating admission plugin). Writing a Role or ClusterRole is allowed
// only when the user already holds every rule in it, or may `escalate` that role; writing a
// binding is allowed only when the user holds every rule of the referenced role, or may
// `bind` it. Members of system:masters are exempt, as upstream exempts them. Denials carry
// upstream's message listing the permissions not held.
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  RoleRef,
} from '../../../api/generated/types/rbac-v1.js';
import { forbidden } from '../../../machinery/status-error.js';
import type { AdmissionRequest, ValidatingPlugin } from '../../admission/types.js';
import type { UserInfo } from '../../endpoints/scope.js';
import { jsonEqual, type KObject } from '../../registry/object.js';
import { aggregateMessages } from './authorizer.js';
import type { RBACChain } from './chain.js';
import { RBAC_GROUP } from './policy-builder.js';
import { compactRules, compactString, covers, goQuoteList } from './rules.js';

/** The group whose members may always escalate (upstream SystemPrivilegedGroup). */
export const SYSTEM_MASTERS = 'system:masters';

const FULL_AUTHORITY: PolicyRule[] = [
  { apiGroups: ['*'], resources: ['*'], verbs: ['*'] },
  { nonResourceURLs: ['*'], verbs: ['*'] },
];

const GC_META_FIELDS = [
  'ownerReferences',
  'finalizers',
  'selfLink',
  'managedFields',
  'resourceVersion',
] as const;

/** True when an update changes only what the garbage collector writes (upstream IsOnlyMutatingGCFields). */
export function isOnlyMutatingGCFields(obj: KObject, old: KObject | undefined): boolean {
  if (!old) return false;
  const strip = (o: KObject): KObject => {
    const m: Record<string, unknown> = { ...(o.metadata ?? {}) };
    for (const f of GC_META_FIELDS) delete m[f];
    return { ...o, metadata: m };
  };
  return jsonEqual(strip(obj), strip(old));
}

/**
 * The error text when `user` lacks some of `rules` in `namespace`, or undefined when the
 * user already holds them all (upstream ConfirmNoEscalation).
 */
export function escalationError(
  authz: RBACChain,
  user: UserInfo,
  namespace: string,
  rules: readonly PolicyRule[],
): string | undefined {
  const { rules: owned, errors } = authz.rbac.policyRulesFor(user, namespace);
  const { covered, missing } = covers(owned, rules);
  if (covered) return undefined;
  const descriptions = [...new Set(compactRules(missing).map(compactString))].sort();
  let msg = `user ${JSON.stringify(user.username)} (groups=${goQuoteList(user.groups)}) is attempting to grant RBAC permissions not currently held:\n${descriptions.join('\n')}`;
  if (errors.length > 0) msg += `; resolution errors: [${aggregateMessages(errors)}]`;
  return msg;
}

/** The validating plugin that refuses RBAC writes granting more than the writer holds. */
export class RBACEscalationPlugin implements ValidatingPlugin {
  readonly name = 'RBACEscalationPrevention';

  constructor(private readonly authz: RBACChain) {}

  validate(req: AdmissionRequest): void {
    if (req.resource.group !== RBAC_GROUP || req.subresource !== '') return;
    if (req.operation !== 'CREATE' && req.operation !== 'UPDATE') return;
    const obj = req.object;
    if (!obj || req.user.groups.includes(SYSTEM_MASTERS)) return;
    if (req.operation === 'UPDATE' && isOnlyMutatingGCFields(obj, req.oldObject)) return;
    const name = obj.metadata?.name ?? req.name;
    const namespace = req.resource.namespaced ? req.namespace || (obj.metadata?.namespace ?? '') : '';
    switch (req.resource.plural) {
      case 'roles':
      case 'clusterroles':
        this.checkRole(req, obj, name, namespace);
        return;
      case 'rolebindings':
      case 'clusterrolebindings':
        this.checkBinding(req, obj, name, namespace);
        return;
    }
  }

  private allowed(user: UserInfo, verb: string, resource: string, name: string, namespace: string): boolean {
    return this.authz.authorize({
      user,
      verb,
      namespace,
      apiGroup: RBAC_GROUP,
      resource,
      subresource: '',
      name,
      resourceRequest: true,
    }).allowed;
  }

  private checkRole(req: AdmissionRequest, obj: KObject, name: string, namespace: string): void {
    const plural = req.resource.plural;
    if (this.allowed(req.user, 'escalate', plural, name, namespace)) return;
    const gr = { group: RBAC_GROUP, resource: plural };
    const role = obj as unknown as ClusterRole;
    const err = escalationError(this.authz, req.user, namespace, role.rules ?? []);
    if (err !== undefined) throw forbidden(gr, name, err);
    if (plural !== 'clusterroles') return;
    const old = req.oldObject as unknown as ClusterRole | undefined;
    // An aggregation rule can gather any permission, so setting one needs full authority.
    if (role.aggregationRule || old?.aggregationRule) {
      if (escalationError(this.authz, req.user, namespace, FULL_AUTHORITY) !== undefined) {
        throw forbidden(gr, name, 'must have cluster-admin privileges to use the aggregationRule');
      }
    }
  }

  private checkBinding(req: AdmissionRequest, obj: KObject, name: string, namespace: string): void {
    const gr = { group: RBAC_GROUP, resource: req.resource.plural };
    const ref = (obj as unknown as ClusterRoleBinding).roleRef as RoleRef | undefined;
    if (!ref) return;
    const resource = ref.kind === 'ClusterRole' ? 'clusterroles' : ref.kind === 'Role' ? 'roles' : '';
    if (resource !== '' && this.allowed(req.user, 'bind', resource, ref.name, namespace)) return;
    const role = this.authz.rbac.resolve(ref, namespace);
    if ('error' in role) throw forbidden(gr, name, role.error);
    const err = escalationError(this.authz, req.user, namespace, role.rules);
    if (err !== undefined) throw forbidden(gr, name, err);
  }
}
