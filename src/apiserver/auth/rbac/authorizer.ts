// The RBAC authorizer: allows a request when a rule of a role bound to the user (through a
// ClusterRoleBinding, or a RoleBinding of the request's namespace) matches it, and has no
// opinion otherwise (RBAC never denies outright). Roles and bindings come from the API
// server's own watch caches; bindings are indexed by subject (user, group, service
// account) and role rules kept compiled, both updated incrementally on every cache event,
// so a decision touches only the bindings that name the user.
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  RoleRef,
  Subject,
} from '../../../api/generated/types/rbac-v1.js';
import type { UserInfo } from '../../endpoints/scope.js';
import type { AuthzAttributes, Decision } from '../../endpoints/reviews.js';
import type { StoreRegistry } from '../../stores.js';
import type { CacheEntry, CacheEvent } from '../../registry/watch-cache.js';
import { CacheFollower, type CacheSink } from './cache-follower.js';
import { type CompiledRule, compileRules } from './rules.js';

/** One rule of a SelfSubjectRulesReview (authorization/v1 ResourceRule). */
export interface ResourceRule {
  verbs: string[];
  apiGroups?: string[];
  resources?: string[];
  resourceNames?: string[];
}

/** One rule of a SelfSubjectRulesReview (authorization/v1 NonResourceRule). */
export interface NonResourceRule {
  verbs: string[];
  nonResourceURLs?: string[];
}

/** The status of a SelfSubjectRulesReview. */
export interface RulesReview {
  resourceRules: ResourceRule[];
  nonResourceRules: NonResourceRule[];
  incomplete: boolean;
  evaluationError?: string;
}

const SA_PREFIX = 'system:serviceaccount:';

/** Index keys under which bindings naming this user are filed. */
export function subjectKeysOf(user: UserInfo): string[] {
  const keys = [`User:${user.username}`];
  for (const g of user.groups) keys.push(`Group:${g}`);
  if (user.username.startsWith(SA_PREFIX)) {
    const rest = user.username.slice(SA_PREFIX.length);
    const i = rest.indexOf(':');
    if (i > 0 && i < rest.length - 1 && !rest.slice(i + 1).includes(':')) {
      keys.push(`ServiceAccount:${rest.slice(0, i)}/${rest.slice(i + 1)}`);
    }
  }
  return keys;
}

// A ServiceAccount subject without a namespace means the binding's own namespace (and
// matches nothing in a ClusterRoleBinding), as upstream's appliesToUser defaults it.
function subjectKey(s: Subject, bindingNamespace: string): string | undefined {
  switch (s.kind) {
    case 'User':
    case 'Group':
      return `${s.kind}:${s.name}`;
    case 'ServiceAccount': {
      const ns = s.namespace || bindingNamespace;
      return ns === '' ? undefined : `ServiceAccount:${ns}/${s.name}`;
    }
    default:
      return undefined;
  }
}

/** A role as the authorizer keeps it. */
interface RoleEntry {
  rules: PolicyRule[];
  compiled: CompiledRule[];
}

/** A binding as the authorizer keeps it. */
interface BindingEntry {
  namespace: string;
  name: string;
  roleRef: RoleRef;
  keys: string[];
}

/** Subject key → binding ids, with add/remove that drop empty sets. */
class SubjectIndex {
  private readonly map = new Map<string, Set<string>>();

  add(keys: readonly string[], id: string): void {
    for (const k of keys) {
      let s = this.map.get(k);
      if (!s) {
        s = new Set();
        this.map.set(k, s);
      }
      s.add(id);
    }
  }

  remove(keys: readonly string[], id: string): void {
    for (const k of keys) {
      const s = this.map.get(k);
      if (!s) continue;
      s.delete(id);
      if (s.size === 0) this.map.delete(k);
    }
  }

  lookup(keys: readonly string[]): string[] {
    const out = new Set<string>();
    for (const k of keys) for (const id of this.map.get(k) ?? []) out.add(id);
    return [...out].sort();
  }

  clear(): void {
    this.map.clear();
  }
}

/** Rules and bindings kept in step with the caches. */
class PolicyIndex {
  readonly clusterRoles = new Map<string, RoleEntry>();
  readonly roles = new Map<string, RoleEntry>();
  readonly clusterBindings = new Map<string, BindingEntry>();
  readonly roleBindings = new Map<string, BindingEntry>();
  readonly clusterIndex = new SubjectIndex();
  /** namespace → its RoleBindings by subject. */
  readonly nsIndex = new Map<string, SubjectIndex>();

  roleSink(target: Map<string, RoleEntry>): CacheSink {
    const put = (e: CacheEntry) => {
      const rules = (e.obj as unknown as ClusterRole).rules ?? [];
      target.set(roleId(e.namespace, e.name), { rules, compiled: compileRules(rules) });
    };
    return {
      reset: (entries) => {
        target.clear();
        for (const e of entries) put(e);
      },
      event: (ev: CacheEvent) => {
        if (ev.type === 'DELETED') target.delete(roleId(ev.cur.namespace, ev.cur.name));
        else put(ev.cur);
      },
    };
  }

  bindingSink(namespaced: boolean): CacheSink {
    const target = namespaced ? this.roleBindings : this.clusterBindings;
    const indexFor = (ns: string, create: boolean): SubjectIndex | undefined => {
      if (!namespaced) return this.clusterIndex;
      let idx = this.nsIndex.get(ns);
      if (!idx && create) {
        idx = new SubjectIndex();
        this.nsIndex.set(ns, idx);
      }
      return idx;
    };
    const remove = (id: string) => {
      const old = target.get(id);
      if (!old) return;
      target.delete(id);
      indexFor(old.namespace, false)?.remove(old.keys, id);
    };
    const put = (e: CacheEntry) => {
      const id = roleId(e.namespace, e.name);
      remove(id);
      const b = e.obj as unknown as ClusterRoleBinding;
      const keys: string[] = [];
      for (const s of b.subjects ?? []) {
        const k = subjectKey(s, e.namespace);
        if (k !== undefined) keys.push(k);
      }
      target.set(id, { namespace: e.namespace, name: e.name, roleRef: b.roleRef, keys });
      indexFor(e.namespace, true)?.add(keys, id);
    };
    return {
      reset: (entries) => {
        target.clear();
        if (namespaced) this.nsIndex.clear();
        else this.clusterIndex.clear();
        for (const e of entries) put(e);
      },
      event: (ev) => {
        if (ev.type === 'DELETED') remove(roleId(ev.cur.namespace, ev.cur.name));
        else put(ev.cur);
      },
    };
  }
}

function roleId(namespace: string, name: string): string {
  return namespace === '' ? name : `${namespace}/${name}`;
}

/** Upstream's utilerrors aggregate rendering: one message as is, several as `[a, b]`. */
export function aggregateMessages(msgs: readonly string[]): string {
  const unique = [...new Set(msgs)];
  if (unique.length === 1) return unique[0]!;
  return `[${unique.join(', ')}]`;
}

/** Calls `visit` for each rule set bound to the user; stops when it returns true. */
type RuleVisitor = (compiled: readonly CompiledRule[], rules: readonly PolicyRule[]) => boolean;

/** The RBAC authorizer and rule resolver. */
export class RBACAuthorizer {
  private readonly index = new PolicyIndex();
  private readonly followers: CacheFollower[];

  constructor(stores: StoreRegistry) {
    const g = 'rbac.authorization.k8s.io';
    this.followers = [
      new CacheFollower(stores.byName(g, 'clusterroles'), this.index.roleSink(this.index.clusterRoles)),
      new CacheFollower(stores.byName(g, 'roles'), this.index.roleSink(this.index.roles)),
      new CacheFollower(stores.byName(g, 'clusterrolebindings'), this.index.bindingSink(false)),
      new CacheFollower(stores.byName(g, 'rolebindings'), this.index.bindingSink(true)),
    ];
  }

  /** Loads the caches and starts following them. */
  async start(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.start()));
  }

  /** Resolves once every change committed before the call is reflected. */
  async synced(): Promise<void> {
    await Promise.all(this.followers.map((f) => f.synced()));
  }

  // Walks ClusterRoleBindings, then the namespace's RoleBindings, in name order.
  // Bindings whose role is missing are reported as upstream's lister errors.
  private visit(user: UserInfo, namespace: string, visitor: RuleVisitor): string[] {
    const errors: string[] = [];
    const keys = subjectKeysOf(user);
    for (const id of this.index.clusterIndex.lookup(keys)) {
      const b = this.index.clusterBindings.get(id);
      if (!b) continue;
      const role = this.resolve(b.roleRef, '');
      if ('error' in role) errors.push(role.error);
      else if (visitor(role.compiled, role.rules)) return errors;
    }
    if (namespace !== '') {
      for (const id of this.index.nsIndex.get(namespace)?.lookup(keys) ?? []) {
        const b = this.index.roleBindings.get(id);
        if (!b) continue;
        const role = this.resolve(b.roleRef, namespace);
        if ('error' in role) errors.push(role.error);
        else if (visitor(role.compiled, role.rules)) return errors;
      }
    }
    return errors;
  }

  /** The rules a role reference grants in a namespace ('' for cluster bindings). */
  resolve(ref: RoleRef, namespace: string): RoleEntry | { error: string } {
    if (ref.kind === 'ClusterRole') {
      return (
        this.index.clusterRoles.get(ref.name) ?? {
          error: `clusterrole.rbac.authorization.k8s.io "${ref.name}" not found`,
        }
      );
    }
    if (ref.kind === 'Role') {
      return (
        this.index.roles.get(roleId(namespace, ref.name)) ?? {
          error: `role.rbac.authorization.k8s.io "${ref.name}" not found`,
        }
      );
    }
    return { error: `unsupported role reference kind: ${JSON.stringify(ref.kind)}` };
  }

  /** Allows when a bound rule matches; never denies (no opinion otherwise). */
  authorize(a: AuthzAttributes): Decision {
    let allowed = false;
    const errors = this.visit(a.user, a.namespace, (compiled) => {
      for (const r of compiled) {
        if (r.allows(a)) {
          allowed = true;
          return true;
        }
      }
      return false;
    });
    if (allowed) return { allowed: true, reason: '' };
    return { allowed: false, reason: errors.length > 0 ? `RBAC: ${aggregateMessages(errors)}` : '' };
  }

  /** Every PolicyRule bound to the user in the namespace, and the resolution errors. */
  policyRulesFor(user: UserInfo, namespace: string): { rules: PolicyRule[]; errors: string[] } {
    const rules: PolicyRule[] = [];
    const errors = this.visit(user, namespace, (_c, rs) => {
      rules.push(...rs);
      return false;
    });
    return { rules, errors };
  }

  /** The SelfSubjectRulesReview status for the user in the namespace. */
  rulesFor(user: UserInfo, namespace: string): RulesReview {
    const { rules, errors } = this.policyRulesFor(user, namespace);
    const review = toRulesReview(rules);
    if (errors.length > 0) review.evaluationError = aggregateMessages(errors);
    return review;
  }

  /** Stops following the caches. */
  close(): void {
    for (const f of this.followers) f.close();
  }
}

/** Splits PolicyRules into SelfSubjectRulesReview resource and non-resource rules. */
export function toRulesReview(rules: readonly PolicyRule[]): RulesReview {
  const resourceRules: ResourceRule[] = [];
  const nonResourceRules: NonResourceRule[] = [];
  for (const r of rules) {
    if ((r.resources ?? []).length > 0) {
      resourceRules.push({
        verbs: r.verbs,
        ...((r.apiGroups ?? []).length > 0 ? { apiGroups: r.apiGroups } : {}),
        resources: r.resources ?? [],
        ...((r.resourceNames ?? []).length > 0 ? { resourceNames: r.resourceNames } : {}),
      });
    }
    if ((r.nonResourceURLs ?? []).length > 0) {
      nonResourceRules.push({ verbs: r.verbs, nonResourceURLs: r.nonResourceURLs ?? [] });
    }
  }
  return { resourceRules, nonResourceRules, incomplete: false };
}
