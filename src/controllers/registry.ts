// Every controller kts-controller-manager can run, by upstream name. Add a controller by
// appending one entry; `--controllers` selects among them (`*`, `name`, `-name`).
import { newDeploymentController } from './deployment/index.js';
import { newGarbageCollector } from './garbage-collector/index.js';
import type { ControllerRegistration } from './manager.js';
import { newDisruptionController } from './disruption/index.js';
import { newEndpointsController } from './endpoints/index.js';
import { newEndpointSliceController } from './endpointslice/index.js';
import { newEndpointSliceMirroringController } from './endpointslice-mirroring/index.js';
import { newNodeIpamController } from './node-ipam/index.js';
import { newNodeLifecycleController, newTaintEvictionController } from './node-lifecycle/index.js';
import { newPodGCController } from './podgc/index.js';
import { newResourceQuotaController } from './resourcequota/index.js';
import { newRootCACertPublisher, newServiceAccountsController } from './serviceaccount/index.js';
import { newNamespaceController } from './namespace/index.js';
import { newReplicaSetController, newReplicationManager } from './replicaset/index.js';
import { newStatefulSetController } from './statefulset/index.js';
import { newDaemonSetController } from './daemonset/index.js';
import { newJobController, newTTLAfterFinishedController } from './job/index.js';
import { newCronJobController } from './cronjob/index.js';

/** The registered controllers, in start order. */
export const controllerRegistry: ControllerRegistration[] = [
  { name: 'namespace', aliases: ['namespace-controller'], factory: newNamespaceController },
  {
    name: 'garbage-collector',
    aliases: ['garbagecollector', 'garbage-collector-controller'],
    factory: newGarbageCollector,
  },
  { name: 'replicaset', aliases: ['replicaset-controller'], factory: newReplicaSetController },
  {
    name: 'replicationcontroller',
    aliases: ['replicationcontroller-controller'],
    factory: newReplicationManager,
  },
  { name: 'deployment', aliases: ['deployment-controller'], factory: newDeploymentController },
  { name: 'endpoint', aliases: ['endpoints-controller'], factory: newEndpointsController },
  { name: 'endpointslice', aliases: ['endpointslice-controller'], factory: newEndpointSliceController },
  {
    name: 'endpointslicemirroring',
    aliases: ['endpointslice-mirroring-controller'],
    factory: newEndpointSliceMirroringController,
  },
  { name: 'serviceaccount', aliases: ['serviceaccount-controller'], factory: newServiceAccountsController },
  {
    name: 'root-ca-cert-publisher',
    aliases: ['root-ca-certificate-publisher-controller'],
    factory: newRootCACertPublisher,
  },
  { name: 'nodelifecycle', aliases: ['node-lifecycle-controller'], factory: newNodeLifecycleController },
  { name: 'taint-eviction-controller', factory: newTaintEvictionController },
  { name: 'nodeipam', aliases: ['node-ipam-controller'], factory: newNodeIpamController },
  { name: 'podgc', aliases: ['pod-garbage-collector-controller'], factory: newPodGCController },
  { name: 'resourcequota', aliases: ['resourcequota-controller'], factory: newResourceQuotaController },
  { name: 'disruption', aliases: ['disruption-controller'], factory: newDisruptionController },
  { name: 'statefulset', aliases: ['statefulset-controller'], factory: newStatefulSetController },
  { name: 'daemonset', aliases: ['daemonset-controller'], factory: newDaemonSetController },
  { name: 'job', aliases: ['job-controller'], factory: newJobController },
  { name: 'cronjob', aliases: ['cronjob-controller'], factory: newCronJobController },
  {
    name: 'ttl-after-finished',
    aliases: ['ttl-after-finished-controller'],
    factory: newTTLAfterFinishedController,
  },
];
