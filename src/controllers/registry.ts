// Every controller kts-controller-manager can run, by upstream name. Add a controller by
// appending one entry; `--controllers` selects among them (`*`, `name`, `-name`). With
// per-controller credentials each runs as ServiceAccount kube-system/<serviceAccount>, the
// account upstream's bootstrap policy binds to `system:controller:<serviceAccount>`; the
// taint-eviction controller uses node-controller's, whose role holds what it needs.
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
import {
  newCSRApprovingController,
  newCSRCleanerController,
  newCSRSigningController,
} from './certificates/index.js';
import { newTokenCleaner } from './bootstrap/index.js';
import { newHorizontalPodAutoscalerController } from './hpa/index.js';
import {
  newPersistentVolumeBinderController,
  newPVCProtectionController,
  newPVProtectionController,
} from './persistentvolume/index.js';
import { newLocalPathProvisioner } from './local-path/index.js';

/** The registered controllers, in start order. */
export const controllerRegistry: ControllerRegistration[] = [
  {
    name: 'namespace',
    serviceAccount: 'namespace-controller',
    aliases: ['namespace-controller'],
    factory: newNamespaceController,
  },
  {
    name: 'garbage-collector',
    serviceAccount: 'generic-garbage-collector',
    aliases: ['garbagecollector', 'garbage-collector-controller'],
    factory: newGarbageCollector,
  },
  {
    name: 'replicaset',
    serviceAccount: 'replicaset-controller',
    aliases: ['replicaset-controller'],
    factory: newReplicaSetController,
  },
  {
    name: 'replicationcontroller',
    serviceAccount: 'replication-controller',
    aliases: ['replicationcontroller-controller'],
    factory: newReplicationManager,
  },
  {
    name: 'deployment',
    serviceAccount: 'deployment-controller',
    aliases: ['deployment-controller'],
    factory: newDeploymentController,
  },
  {
    name: 'endpoint',
    serviceAccount: 'endpoint-controller',
    aliases: ['endpoints-controller'],
    factory: newEndpointsController,
  },
  {
    name: 'endpointslice',
    serviceAccount: 'endpointslice-controller',
    aliases: ['endpointslice-controller'],
    factory: newEndpointSliceController,
  },
  {
    name: 'endpointslicemirroring',
    serviceAccount: 'endpointslicemirroring-controller',
    aliases: ['endpointslice-mirroring-controller'],
    factory: newEndpointSliceMirroringController,
  },
  {
    name: 'serviceaccount',
    serviceAccount: 'service-account-controller',
    aliases: ['serviceaccount-controller'],
    factory: newServiceAccountsController,
  },
  {
    name: 'root-ca-cert-publisher',
    serviceAccount: 'root-ca-cert-publisher',
    aliases: ['root-ca-certificate-publisher-controller'],
    factory: newRootCACertPublisher,
  },
  {
    name: 'nodelifecycle',
    serviceAccount: 'node-controller',
    aliases: ['node-lifecycle-controller'],
    factory: newNodeLifecycleController,
  },
  {
    name: 'taint-eviction-controller',
    serviceAccount: 'node-controller',
    factory: newTaintEvictionController,
  },
  {
    name: 'nodeipam',
    serviceAccount: 'node-controller',
    aliases: ['node-ipam-controller'],
    factory: newNodeIpamController,
  },
  {
    name: 'podgc',
    serviceAccount: 'pod-garbage-collector',
    aliases: ['pod-garbage-collector-controller'],
    factory: newPodGCController,
  },
  {
    name: 'resourcequota',
    serviceAccount: 'resourcequota-controller',
    aliases: ['resourcequota-controller'],
    factory: newResourceQuotaController,
  },
  {
    name: 'disruption',
    serviceAccount: 'disruption-controller',
    aliases: ['disruption-controller'],
    factory: newDisruptionController,
  },
  {
    name: 'statefulset',
    serviceAccount: 'statefulset-controller',
    aliases: ['statefulset-controller'],
    factory: newStatefulSetController,
  },
  {
    name: 'daemonset',
    serviceAccount: 'daemon-set-controller',
    aliases: ['daemonset-controller'],
    factory: newDaemonSetController,
  },
  { name: 'job', serviceAccount: 'job-controller', aliases: ['job-controller'], factory: newJobController },
  {
    name: 'cronjob',
    serviceAccount: 'cronjob-controller',
    aliases: ['cronjob-controller'],
    factory: newCronJobController,
  },
  {
    name: 'horizontalpodautoscaling',
    serviceAccount: 'horizontal-pod-autoscaler',
    aliases: ['horizontal-pod-autoscaler-controller'],
    factory: newHorizontalPodAutoscalerController,
  },
  {
    name: 'ttl-after-finished',
    serviceAccount: 'ttl-after-finished-controller',
    aliases: ['ttl-after-finished-controller'],
    factory: newTTLAfterFinishedController,
  },
  {
    name: 'csrsigning',
    serviceAccount: 'certificate-controller',
    aliases: ['certificatesigningrequest-signing-controller'],
    factory: newCSRSigningController,
  },
  {
    name: 'csrapproving',
    serviceAccount: 'certificate-controller',
    aliases: ['certificatesigningrequest-approving-controller'],
    factory: newCSRApprovingController,
  },
  {
    name: 'csrcleaner',
    serviceAccount: 'certificate-controller',
    aliases: ['certificatesigningrequest-cleaner-controller'],
    factory: newCSRCleanerController,
  },
  {
    name: 'persistentvolume-binder',
    serviceAccount: 'persistent-volume-binder',
    aliases: ['persistentvolume-binder-controller'],
    factory: newPersistentVolumeBinderController,
  },
  {
    name: 'pvc-protection',
    serviceAccount: 'pvc-protection-controller',
    aliases: ['persistentvolumeclaim-protection-controller'],
    factory: newPVCProtectionController,
  },
  {
    name: 'pv-protection',
    serviceAccount: 'pv-protection-controller',
    aliases: ['persistentvolume-protection-controller'],
    factory: newPVProtectionController,
  },
  // Not upstream's: k3s runs it as a deployment; kts runs it here, on by default.
  {
    name: 'local-path-provisioner',
    serviceAccount: 'local-path-provisioner',
    factory: newLocalPathProvisioner,
  },
  // Off by default upstream; kubeadm (and `kts server`) turn it on.
  {
    name: 'tokencleaner',
    serviceAccount: 'token-cleaner',
    aliases: ['token-cleaner-controller'],
    disabledByDefault: true,
    factory: newTokenCleaner,
  },
];
