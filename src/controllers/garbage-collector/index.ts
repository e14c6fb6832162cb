// The garbage collector: deletes objects whose owners are all gone (Background), deletes
// blocking dependents before an owner with the `foregroundDeletion` finalizer, and strips
// references to an owner with the `orphan` finalizer from its dependents. It watches every
// served resource that supports list, watch and delete, and acts only through the API.
import { servedResources } from '../../apiserver/served.js';
import type { ControllerFactory } from '../types.js';
import { GarbageCollector } from './controller.js';

export * from './controller.js';

/** Builds the garbage collector over the served resources (used only as the GVR list). */
export const newGarbageCollector: ControllerFactory = (ctx) => new GarbageCollector(ctx, servedResources());
