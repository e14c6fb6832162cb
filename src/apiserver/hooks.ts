// The ObjectHooks every Store uses: upstream defaulting, semantic validation and
// managedFields tracking, bound to the generated schema table.
import { applyDefaults } from '../api/defaults/index.js';
import type { ResourceInfo } from '../api/registry-types.js';
import { omitEmpty } from '../api/omit-empty.js';
import { definitionForGVK } from '../api/schema.js';
import { validateObject, validateObjectUpdate } from '../api/validation/index.js';
import { updateManagedFields } from '../machinery/apply/index.js';
import type { KObject } from './registry/object.js';
import type { ObjectHooks, WriteOptions } from './registry/store.js';

function gvk(r: ResourceInfo): { group: string; version: string; kind: string } {
  return { group: r.group, version: r.version, kind: r.kind };
}

const definitionNames = new Map<string, string | undefined>();

function definitionOf(r: ResourceInfo): string | undefined {
  const k = `${r.group}/${r.version}/${r.kind}`;
  if (!definitionNames.has(k)) definitionNames.set(k, definitionForGVK(gvk(r))?.name);
  return definitionNames.get(k);
}

/** The production hooks. */
export function defaultHooks(now: () => Date = () => new Date()): ObjectHooks {
  return {
    defaults(obj: KObject, r: ResourceInfo): void {
      applyDefaults(obj, gvk(r));
      const def = definitionOf(r);
      if (def) omitEmpty(obj, { ref: def });
    },
    validate(obj: KObject, r: ResourceInfo) {
      return validateObject(obj, gvk(r), { namespaced: r.namespaced });
    },
    validateUpdate(obj: KObject, old: KObject, r: ResourceInfo) {
      return validateObjectUpdate(obj, old, gvk(r));
    },
    trackManagedFields(old: KObject | undefined, obj: KObject, r: ResourceInfo, wo: WriteOptions): void {
      const def = definitionOf(r);
      const out = updateManagedFields(old, obj, {
        manager: wo.fieldManager,
        apiVersion: r.group === '' ? r.version : `${r.group}/${r.version}`,
        schema: def ? { ref: def } : undefined,
        now: now(),
        ...(wo.subresource ? { subresource: wo.subresource } : {}),
      });
      const mf = out.managedFields as NonNullable<KObject['metadata']>['managedFields'];
      if (obj.metadata === undefined) obj.metadata = {};
      if (mf === undefined || mf.length === 0) delete obj.metadata.managedFields;
      else obj.metadata.managedFields = mf;
    },
  };
}
