// Test support for the RBAC package: a StoreRegistry on MemoryStorage with the production
// hooks, and small builders for the objects tests write.
import { MemoryStorage } from '../../../storage/memory.js';
import { defaultHooks } from '../../hooks.js';
import type { KObject } from '../../registry/object.js';
import type { WriteOptions } from '../../registry/store.js';
import { StoreRegistry } from '../../stores.js';
import { RBAC_GROUP } from './policy-builder.js';
/** A fresh StoreRegistry over memory storage; close() stops its caches. */
export function newTestStores(): { stores: StoreRegistry; storage: MemoryStorage; close(): Promise<void> } {
  const storage = new MemoryStorage();
  const stores = new StoreRegistry(storage, defaultHooks());
  return {
    stores,
    storage,
    async close() {
      stores.close();
      await storage.close();
    },
  };
}

/** Write options of a plain write without admission. */
export function testWO(): WriteOptions {
  return { dryRun: false, fieldManager: 'test', subresource: '', warnings: [] };
}

/** A RoleBinding (or ClusterRoleBinding when namespace is '') of one subject. */
export function binding(
  namespace: string,
  name: string,
  roleKind: 'Role' | 'ClusterRole',
  roleName: string,
  subject: { kind: string; name: string; namespace?: string },
): KObject {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: namespace === '' ? 'ClusterRoleBinding' : 'RoleBinding',
    metadata: { name, ...(namespace ? { namespace } : {}) },
    roleRef: { apiGroup: RBAC_GROUP, kind: roleKind, name: roleName },
    subjects: [subject.kind === 'ServiceAccount' ? subject : { apiGroup: RBAC_GROUP, ...subject }],
  };
}

/** The user a service-account token authenticates as. */
export function serviceAccountUser(namespace: string, name: string) {
  return {
    username: `system:serviceaccount:${namespace}:${name}`,
    groups: ['system:serviceaccounts', `system:serviceaccounts:${namespace}`, 'system:authenticated'],
  };
}
