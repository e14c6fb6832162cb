// The generic Store of one served version of a custom resource: its strategy and hooks
// from the CRD version, keys under `/registry/<group>/<plural>/` like upstream's, objects
// written at the CRD's storage version and read back at this version with defaults applied
// (upstream's None conversion and its decode-time defaulting).
import type { KObject } from '../apiserver/registry/object.js';
import { Store } from '../apiserver/registry/store.js';
import type { Storage } from '../storage/storage.js';
import { customResourceHooks, CustomResourceStrategy } from './custom-resource-strategy.js';
import type { ServedCustomResource } from './registry.js';
import { storageVersion } from './resource-info.js';

/** A new Store for one served custom resource version. */
export function customResourceStore(entry: ServedCustomResource, storage: Storage): Store {
  const version = entry.crd.spec.versions.find((v) => v.name === entry.version);
  if (!version)
    throw new Error(`version ${entry.version} of ${entry.crd.metadata?.name ?? ''} is not defined`);
  const strategy = new CustomResourceStrategy(entry.info, version, entry.schema);
  const hooks = customResourceHooks(entry.schema, entry.info.definition);
  const schema = entry.schema;
  return new Store(strategy, storage, hooks, undefined, {
    storageAPIVersion: `${entry.info.group}/${storageVersion(entry.crd)}`,
    ...(schema !== undefined
      ? { onRead: (obj: KObject) => schema.applyDefaults(obj as Record<string, unknown>) }
      : {}),
  });
}
