// The garbage collector: deletes objects whose owners are all gone (Background), deletes
// blocking dependents before an owner with the `foregroundDeletion` finalizer, and strips
// references to an owner with the `orphan` finalizer from its dependents. It watches every
// served resource that supports list, watch and delete, and acts only through the API.
import {
  CUSTOMRESOURCEDEFINITIONS,
  discoverCustomResources,
} from '../../apiextensions/custom-resource-discovery.js';
import { servedResources } from '../../apiserver/served.js';
import type { ControllerFactory } from '../types.js';
import { GarbageCollector } from './controller.js';

export * from './controller.js';

/**
 * Builds the garbage collector over the built-in resources (used only as the GVR list) and
 * the custom resources it discovers through its client, again on every CRD change.
 */
export const newGarbageCollector: ControllerFactory = (ctx) => {
  const crds = ctx.informers.forResource(CUSTOMRESOURCEDEFINITIONS).informer;
  return new GarbageCollector(ctx, servedResources(), {
    discover: () => discoverCustomResources(ctx.client),
    watch: (onChange) => {
      const reg = crds.addEventHandler({ onAdd: onChange, onUpdate: onChange, onDelete: onChange });
      return () => reg.remove();
    },
  });
};
