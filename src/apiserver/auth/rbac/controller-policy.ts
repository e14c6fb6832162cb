// The per-controller roles of upstream's controller policy (1.32, default feature gates):
// each controller of kube-controller-manager runs as the service account
// kube-system/<name> bound to ClusterRole system:controller:<name>, holding exactly what
// that controller reads and writes.
import type { ClusterRole, ClusterRoleBinding, PolicyRule } from '../../../api/generated/types/rbac-v1.js';
import { clusterBinding, clusterRole, eventsRule, rule, subjects } from './policy-builder.js';

/** Prefix of every controller role and binding. */
export const CONTROLLER_ROLE_PREFIX = 'system:controller:';

const READ = 'get,list,watch';

/** Controller name → its rules. */
function controllerRuleTable(): Array<[string, PolicyRule[]]> {
  return [
    [
      'attachdetach-controller',
      [
        rule('list,watch', '', 'persistentvolumes,persistentvolumeclaims'),
        rule(READ, '', 'nodes'),
        rule('patch,update', '', 'nodes/status'),
        rule('list,watch', '', 'pods'),
        eventsRule(),
        rule('get,create,delete,list,watch', 'storage.k8s.io', 'volumeattachments'),
        rule(READ, 'storage.k8s.io', 'csidrivers'),
        rule(READ, 'storage.k8s.io', 'csinodes'),
      ],
    ],
    [
      'certificate-controller',
      [
        rule('get,list,watch,delete', 'certificates.k8s.io', 'certificatesigningrequests'),
        rule(
          'update',
          'certificates.k8s.io',
          'certificatesigningrequests/status,certificatesigningrequests/approval',
        ),
        rule('approve', 'certificates.k8s.io', 'signers', 'kubernetes.io/kube-apiserver-client-kubelet'),
        rule(
          'sign',
          'certificates.k8s.io',
          'signers',
          'kubernetes.io/legacy-unknown,kubernetes.io/kube-apiserver-client,kubernetes.io/kube-apiserver-client-kubelet,kubernetes.io/kubelet-serving',
        ),
        rule('create', 'authorization.k8s.io', 'subjectaccessreviews'),
        eventsRule(),
      ],
    ],
    [
      'clusterrole-aggregation-controller',
      [rule('escalate,get,list,watch,update,patch', 'rbac.authorization.k8s.io', 'clusterroles')],
    ],
    [
      'cronjob-controller',
      [
        rule('get,list,watch,update', 'batch', 'cronjobs'),
        rule('get,list,watch,create,update,delete,patch', 'batch', 'jobs'),
        rule('update', 'batch', 'cronjobs/status'),
        rule('update', 'batch', 'cronjobs/finalizers'),
        rule('list,watch,delete', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'daemon-set-controller',
      [
        rule(READ, 'extensions,apps', 'daemonsets'),
        rule('update', 'extensions,apps', 'daemonsets/status'),
        rule('update', 'extensions,apps', 'daemonsets/finalizers'),
        rule('list,watch', '', 'nodes'),
        rule('list,watch,create,delete,patch', '', 'pods'),
        rule('create', '', 'pods/binding'),
        rule('get,list,watch,create,delete,update,patch', 'apps', 'controllerrevisions'),
        eventsRule(),
      ],
    ],
    [
      'deployment-controller',
      [
        rule('get,list,watch,update', 'extensions,apps', 'deployments'),
        rule('update', 'extensions,apps', 'deployments/status'),
        rule('update', 'extensions,apps', 'deployments/finalizers'),
        rule('get,list,watch,create,update,patch,delete', 'extensions,apps', 'replicasets'),
        rule('get,list,watch,update', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'disruption-controller',
      [
        rule(READ, 'extensions,apps', 'deployments'),
        rule(READ, 'apps,extensions', 'replicasets'),
        rule(READ, '', 'replicationcontrollers'),
        rule(READ, 'policy', 'poddisruptionbudgets'),
        rule(READ, 'apps', 'statefulsets'),
        rule('update', 'policy', 'poddisruptionbudgets/status'),
        rule('patch,update', '', 'pods/status'),
        rule('get', '*', '*/scale'),
        eventsRule(),
      ],
    ],
    [
      'endpoint-controller',
      [
        rule(READ, '', 'services,pods'),
        rule('get,list,create,update,delete,watch', '', 'endpoints'),
        rule('create', '', 'endpoints/restricted'),
        eventsRule(),
      ],
    ],
    [
      'endpointslice-controller',
      [
        rule(READ, '', 'services,pods,nodes'),
        rule('update', '', 'services/finalizers'),
        rule('create,update,delete,get,list,watch', 'discovery.k8s.io', 'endpointslices'),
        eventsRule(),
      ],
    ],
    [
      'endpointslicemirroring-controller',
      [
        rule(READ, '', 'services,endpoints'),
        rule('update', '', 'services/finalizers'),
        rule('update', '', 'endpoints/finalizers'),
        rule('create,update,delete,get,list,watch', 'discovery.k8s.io', 'endpointslices'),
        eventsRule(),
      ],
    ],
    [
      'ephemeral-volume-controller',
      [
        rule(READ, '', 'pods'),
        rule('update', '', 'pods/finalizers'),
        rule('get,list,watch,create', '', 'persistentvolumeclaims'),
        eventsRule(),
      ],
    ],
    [
      'expand-controller',
      [
        rule('get,list,watch,update,patch', '', 'persistentvolumes'),
        rule('update,patch', '', 'persistentvolumeclaims/status'),
        rule(READ, '', 'persistentvolumeclaims'),
        eventsRule(),
      ],
    ],
    ['generic-garbage-collector', [rule('get,list,watch,patch,update,delete', '*', '*'), eventsRule()]],
    [
      'horizontal-pod-autoscaler',
      [
        rule(READ, 'autoscaling', 'horizontalpodautoscalers'),
        rule('update', 'autoscaling', 'horizontalpodautoscalers/status'),
        rule('get,update', '*', '*/scale'),
        rule('list,watch', '', 'pods'),
        rule('get,list', 'metrics.k8s.io', 'pods'),
        // kts maps custom scale targets from the CRDs (upstream asks discovery, which is public).
        rule('list', 'apiextensions.k8s.io', 'customresourcedefinitions'),
        rule(READ, 'custom.metrics.k8s.io', '*'),
        rule(READ, 'external.metrics.k8s.io', '*'),
        eventsRule(),
      ],
    ],
    [
      'job-controller',
      [
        rule('get,list,watch,update,patch', 'batch', 'jobs'),
        rule('update', 'batch', 'jobs/status'),
        rule('update', 'batch', 'jobs/finalizers'),
        rule('list,watch,create,delete,patch', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'legacy-service-account-token-cleaner',
      [
        rule('get', '', 'configmaps', 'kube-apiserver-legacy-service-account-token-tracking'),
        rule('delete,patch', '', 'secrets'),
      ],
    ],
    // kts's own: the local-path provisioner (k3s runs it with a role of its own).
    [
      'local-path-provisioner',
      [
        rule(READ, '', 'nodes'),
        rule(READ, '', 'persistentvolumeclaims'),
        rule('get,list,watch,create,delete', '', 'persistentvolumes'),
        rule('get,list,watch,create', 'storage.k8s.io', 'storageclasses'),
        rule('get,list,watch,create,delete', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'namespace-controller',
      [
        rule('get,list,watch,delete', '', 'namespaces'),
        rule('update', '', 'namespaces/finalize,namespaces/status'),
        rule('get,list,watch,delete,deletecollection', '*', '*'),
      ],
    ],
    [
      'node-controller',
      [
        rule('get,list,update,delete,patch', '', 'nodes'),
        rule('patch,update', '', 'nodes/status'),
        rule('patch,update', '', 'pods/status'),
        rule('list,get,delete', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'persistent-volume-binder',
      [
        rule('get,list,watch,update,create,delete', '', 'persistentvolumes'),
        rule('update', '', 'persistentvolumes/status'),
        rule('get,list,watch,update', '', 'persistentvolumeclaims'),
        rule('update', '', 'persistentvolumeclaims/status'),
        rule('list,watch,get,create,delete', '', 'pods'),
        rule(READ, 'storage.k8s.io', 'storageclasses'),
        rule('list,watch', '', 'nodes'),
        eventsRule(),
        rule('watch', '', 'events'),
      ],
    ],
    [
      'pod-garbage-collector',
      [rule('list,watch,delete', '', 'pods'), rule(READ, '', 'nodes'), rule('patch', '', 'pods/status')],
    ],
    ['pv-protection-controller', [rule('get,list,watch,update', '', 'persistentvolumes'), eventsRule()]],
    [
      'pvc-protection-controller',
      [
        rule('get,list,watch,update', '', 'persistentvolumeclaims'),
        rule('update', '', 'persistentvolumeclaims/status'),
        rule(READ, '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'replicaset-controller',
      [
        rule('get,list,watch,update', 'apps,extensions', 'replicasets'),
        rule('update', 'apps,extensions', 'replicasets/status'),
        rule('update', 'apps,extensions', 'replicasets/finalizers'),
        rule('list,watch,patch,create,delete', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'replication-controller',
      [
        rule('get,list,watch,update', '', 'replicationcontrollers'),
        rule('update', '', 'replicationcontrollers/status'),
        rule('update', '', 'replicationcontrollers/finalizers'),
        rule('list,watch,patch,create,delete', '', 'pods'),
        eventsRule(),
      ],
    ],
    [
      'resourcequota-controller',
      [rule('list,watch', '*', '*'), rule('update', '', 'resourcequotas/status'), eventsRule()],
    ],
    ['root-ca-cert-publisher', [rule('create,update', '', 'configmaps'), eventsRule()]],
    ['route-controller', [rule('list,watch', '', 'nodes'), rule('patch', '', 'nodes/status'), eventsRule()]],
    ['service-account-controller', [rule('create', '', 'serviceaccounts'), eventsRule()]],
    [
      'service-controller',
      [
        rule(READ, '', 'services'),
        rule('patch,update', '', 'services/status'),
        rule('list,watch', '', 'nodes'),
        eventsRule(),
      ],
    ],
    [
      'statefulset-controller',
      [
        rule('list,watch', '', 'pods'),
        rule(READ, 'apps', 'statefulsets'),
        rule('update', 'apps', 'statefulsets/status'),
        rule('update', 'apps', 'statefulsets/finalizers'),
        rule('get,create,delete,update,patch', '', 'pods'),
        rule('get,create,delete,update,patch,list,watch', 'apps', 'controllerrevisions'),
        rule('get,list,watch,create', '', 'persistentvolumeclaims'),
        rule('update,delete', '', 'persistentvolumeclaims'),
        rule('update', '', 'pods/finalizers'),
        eventsRule(),
      ],
    ],
    ['ttl-after-finished-controller', [rule('get,list,watch,delete', 'batch', 'jobs'), eventsRule()]],
    ['ttl-controller', [rule('update,patch,list,watch', '', 'nodes'), eventsRule()]],
    [
      'validatingadmissionpolicy-status-controller',
      [
        rule(READ, 'admissionregistration.k8s.io', 'validatingadmissionpolicies'),
        rule('get,patch,update', 'admissionregistration.k8s.io', 'validatingadmissionpolicies/status'),
        eventsRule(),
      ],
    ],
  ];
}

/** The system:controller:* ClusterRoles. */
export function controllerRoles(): ClusterRole[] {
  return controllerRuleTable().map(([name, rules]) => clusterRole(`${CONTROLLER_ROLE_PREFIX}${name}`, rules));
}

/** Bindings of each controller role to the controller's kube-system service account. */
export function controllerRoleBindings(): ClusterRoleBinding[] {
  return controllerRuleTable().map(([name]) =>
    clusterBinding(`${CONTROLLER_ROLE_PREFIX}${name}`, subjects(`ServiceAccount:kube-system/${name}`)),
  );
}
