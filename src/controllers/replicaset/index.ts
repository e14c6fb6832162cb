// The ReplicaSet and ReplicationController controllers (one implementation, as upstream):
// keep `spec.replicas` pods running from the template, adopt matching orphans, release
// strays, delete the cheapest pods first on scale-down, and report status. Also exports
// the pod-control and controllerRef helpers other workload controllers reuse.
import type { ReplicaSet } from '../../api/generated/types/apps-v1.js';
import type { ReplicationController } from '../../api/generated/types/core-v1.js';
import { REPLICASETS, REPLICATIONCONTROLLERS } from '../../client/resources.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import { selectorFromSet } from '../../machinery/labels/selector.js';
import type { ControllerFactory } from '../types.js';
import { ReplicaSetController, type ReplicaSetKind } from './controller.js';

export * from './controller.js';
export * from './controller-ref-manager.js';
export * from './pod-ranking.js';

/** The ReplicaSet flavour. */
export const REPLICASET_KIND: ReplicaSetKind<ReplicaSet> = {
  name: 'replicaset',
  component: 'replicaset-controller',
  gvr: REPLICASETS,
  gvk: { group: 'apps', version: 'v1', kind: 'ReplicaSet' },
  selectorOf: (rs) => labelSelectorAsSelector(rs.spec?.selector),
};

/** The ReplicationController flavour (selector is a plain label map). */
export const REPLICATIONCONTROLLER_KIND: ReplicaSetKind<ReplicationController> = {
  name: 'replicationcontroller',
  component: 'replication-controller',
  gvr: REPLICATIONCONTROLLERS,
  gvk: { group: '', version: 'v1', kind: 'ReplicationController' },
  selectorOf: (rc) => selectorFromSet(rc.spec?.selector),
};

/** Builds the ReplicaSet controller. */
export const newReplicaSetController: ControllerFactory = (ctx) =>
  new ReplicaSetController(ctx, REPLICASET_KIND);

/** Builds the ReplicationController manager. */
export const newReplicationManager: ControllerFactory = (ctx) =>
  new ReplicaSetController(ctx, REPLICATIONCONTROLLER_KIND);
