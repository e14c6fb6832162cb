// Writes the bootstrap policy at API server start, as upstream's RBAC post-start hook does:
// missing roles and bindings are created; existing ones not marked
// `rbac.authorization.kubernetes.io/autoupdate: "false"` are reconciled additively (missing
// rules, aggregation selectors, subjects, labels and annotations are added, nothing is
// removed; a binding whose roleRef changed is recreated). Aggregated roles (admin, edit,
// view) are then filled so they work from the first request.
import type { ObjectMeta } from '../../../api/generated/types/meta-v1.js';
import type { ClusterRole, ClusterRoleBinding, Subject } from '../../../api/generated/types/rbac-v1.js';
import { isAlreadyExists, isConflict, isNotFound } from '../../../machinery/status-error.js';
import { jsonEqual, type KObject } from '../../registry/object.js';
import type { Store, WriteOptions } from '../../registry/store.js';
import type { StoreRegistry } from '../../stores.js';
import { aggregateOnce } from './aggregation.js';
import {
  clusterRoleBindings,
  clusterRoles,
  namespaceRoleBindings,
  namespaceRoles,
} from './bootstrap-policy.js';
import { AUTOUPDATE_ANNOTATION, RBAC_GROUP } from './policy-builder.js';
import { covers } from './rules.js';

type RoleLike = ClusterRole;
type BindingLike = ClusterRoleBinding;
type Meta = { metadata?: ObjectMeta };

function wo(): WriteOptions {
  return { dryRun: false, fieldManager: 'kube-apiserver', subresource: '', warnings: [] };
}

function protectedFromUpdate(obj: Meta): boolean {
  return obj.metadata?.annotations?.[AUTOUPDATE_ANNOTATION] === 'false';
}

// Existing labels and annotations win; expected ones are only added.
function mergeMeta(existing: Meta, expected: Meta): boolean {
  const m = existing.metadata ?? {};
  existing.metadata = m;
  let changed = false;
  for (const field of ['labels', 'annotations'] as const) {
    const want = expected.metadata?.[field] ?? {};
    const have = { ...(m[field] ?? {}) };
    for (const [k, v] of Object.entries(want)) {
      if (!(k in have)) {
        have[k] = v;
        changed = true;
      }
    }
    if (changed) m[field] = have;
  }
  return changed;
}

/** The reconciled role, or undefined when the existing one already matches. */
export function reconcileRole(existing: RoleLike, expected: RoleLike): RoleLike | undefined {
  const out = structuredClone(existing) as RoleLike;
  let changed = mergeMeta(out, expected);
  if (expected.aggregationRule) {
    const have = out.aggregationRule?.clusterRoleSelectors ?? [];
    const missing = (expected.aggregationRule.clusterRoleSelectors ?? []).filter(
      (s) => !have.some((h) => jsonEqual(h, s)),
    );
    if (missing.length > 0 || !out.aggregationRule) {
      out.aggregationRule = { clusterRoleSelectors: [...have, ...missing] };
      changed = true;
    }
  } else {
    const { missing } = covers(out.rules ?? [], expected.rules ?? []);
    if (missing.length > 0) {
      out.rules = [...(out.rules ?? []), ...missing];
      changed = true;
    }
  }
  return changed ? out : undefined;
}

/** The reconciled binding ('recreate' when the roleRef differs), or undefined when current. */
export function reconcileBinding(
  existing: BindingLike,
  expected: BindingLike,
): BindingLike | 'recreate' | undefined {
  if (!jsonEqual(existing.roleRef, expected.roleRef)) return 'recreate';
  const out = structuredClone(existing) as BindingLike;
  let changed = mergeMeta(out, expected);
  const have: Subject[] = out.subjects ?? [];
  const missing = (expected.subjects ?? []).filter((s) => !have.some((h) => jsonEqual(h, s)));
  if (missing.length > 0) {
    out.subjects = [...have, ...missing];
    changed = true;
  }
  return changed ? out : undefined;
}

async function ensureObjects<T extends Meta>(
  store: Store,
  expected: readonly T[],
  reconcile: (existing: T, expected: T) => T | 'recreate' | undefined,
): Promise<void> {
  const current = new Map<string, T>();
  for (const e of await store.listAll('')) current.set(e.key, e.obj as unknown as T);
  await Promise.all(
    expected.map(async (want) => {
      const ns = want.metadata?.namespace ?? '';
      const name = want.metadata?.name ?? '';
      const have = current.get(store.key(ns, name));
      try {
        if (!have) {
          await store.create(ns, structuredClone(want) as unknown as KObject, wo());
          return;
        }
        if (protectedFromUpdate(have)) return;
        const next = reconcile(have, want);
        if (next === undefined) return;
        if (next === 'recreate') {
          await store.delete(ns, name, {}, wo());
          await store.create(ns, structuredClone(want) as unknown as KObject, wo());
          return;
        }
        await store.guaranteedUpdate(ns, name, wo(), () => {
          const m = { ...(next.metadata ?? {}) };
          delete m.resourceVersion;
          return { ...(next as unknown as KObject), metadata: m };
        });
      } catch (e) {
        // Another server of an HA pair may be writing the same defaults right now.
        if (!isAlreadyExists(e) && !isConflict(e) && !isNotFound(e)) throw e;
      }
    }),
  );
}

/** Creates (and additively reconciles) the default roles and bindings. Idempotent. */
export async function ensureBootstrapPolicy(stores: StoreRegistry): Promise<void> {
  const clusterRoleStore = stores.byName(RBAC_GROUP, 'clusterroles');
  await ensureObjects(clusterRoleStore, clusterRoles(), reconcileRole);
  await ensureObjects(
    stores.byName(RBAC_GROUP, 'clusterrolebindings'),
    clusterRoleBindings(),
    reconcileBinding,
  );
  await ensureObjects(stores.byName(RBAC_GROUP, 'roles'), namespaceRoles(), reconcileRole);
  await ensureObjects(stores.byName(RBAC_GROUP, 'rolebindings'), namespaceRoleBindings(), reconcileBinding);
  for (let i = 0; i < 8; i++) {
    const all = (await clusterRoleStore.listAll('')).map((e) => e.obj as unknown as ClusterRole);
    if ((await aggregateOnce(clusterRoleStore, all)).length === 0) break;
  }
}
