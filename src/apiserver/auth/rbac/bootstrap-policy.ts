// The default RBAC policy of a Kubernetes 1.32 API server (upstream bootstrappolicy): the
// user-facing roles (cluster-admin, admin/edit/view with their aggregation rules), the
// system:* roles every component and node needs, the namespaced leader-election and
// authentication-reader roles, and the bindings that give each identity its role. Every
// object carries the `kubernetes.io/bootstrapping: rbac-defaults` label and the
// `rbac.authorization.kubernetes.io/autoupdate: "true"` annotation.
import type {
  ClusterRole,
  ClusterRoleBinding,
  PolicyRule,
  Role,
  RoleBinding,
  Subject,
} from '../../../api/generated/types/rbac-v1.js';
import { controllerRoleBindings, controllerRoles } from './controller-policy.js';
import {
  clusterBinding,
  clusterRole,
  eventsRule,
  meta,
  RBAC_GROUP,
  rule,
  subjects,
  urlRule,
} from './policy-builder.js';

const RW = 'get,list,watch,create,update,patch,delete,deletecollection';
const READ = 'get,list,watch';
const WRITE = 'create,delete,deletecollection,patch,update';

function aggregated(name: string, selectLabel: string, labels?: Record<string, string>): ClusterRole {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'ClusterRole',
    metadata: meta(name, labels),
    aggregationRule: { clusterRoleSelectors: [{ matchLabels: { [selectLabel]: 'true' } }] },
    rules: [],
  };
}

const AGG_ADMIN = 'rbac.authorization.k8s.io/aggregate-to-admin';
const AGG_EDIT = 'rbac.authorization.k8s.io/aggregate-to-edit';
const AGG_VIEW = 'rbac.authorization.k8s.io/aggregate-to-view';

/** The system:node role's rules; the Node authorizer grants them to every node. */
export function nodeRules(): PolicyRule[] {
  return [
    rule('create', 'authentication.k8s.io', 'tokenreviews'),
    rule('create', 'authorization.k8s.io', 'subjectaccessreviews,localsubjectaccessreviews'),
    rule(READ, '', 'services'),
    rule('create,get,list,watch', '', 'nodes'),
    rule('update,patch', '', 'nodes/status'),
    rule('update,patch', '', 'nodes'),
    rule('create,update,patch', '', 'events'),
    rule(READ, '', 'pods'),
    rule('create,delete', '', 'pods'),
    rule('update,patch', '', 'pods/status'),
    rule('create', '', 'pods/eviction'),
    rule(READ, '', 'secrets,configmaps'),
    rule('get', '', 'persistentvolumeclaims,persistentvolumes'),
    rule('get', '', 'endpoints'),
    rule('create,get,list,watch', 'certificates.k8s.io', 'certificatesigningrequests'),
    rule('delete,create,get,update,patch', 'coordination.k8s.io', 'leases'),
    rule('get', 'storage.k8s.io', 'volumeattachments'),
    rule('create', '', 'serviceaccounts/token'),
    rule('get,update,patch', '', 'persistentvolumeclaims/status'),
    rule(READ, 'storage.k8s.io', 'csidrivers'),
    rule('get,create,update,patch,delete', 'storage.k8s.io', 'csinodes'),
    rule(READ, 'node.k8s.io', 'runtimeclasses'),
  ];
}

function approver(signer: string): PolicyRule[] {
  return [rule('approve', 'certificates.k8s.io', 'signers', signer)];
}

/** The default ClusterRoles (controller roles included). */
export function clusterRoles(): ClusterRole[] {
  const roles: ClusterRole[] = [
    clusterRole('cluster-admin', [rule('*', '*', '*'), urlRule('*', '*')]),
    clusterRole('system:discovery', [
      urlRule(
        'get',
        '/livez,/readyz,/healthz,/version,/version/,/openapi,/openapi/*,/api,/api/*,/apis,/apis/*',
      ),
    ]),
    clusterRole('system:monitoring', [
      urlRule('get', '/metrics,/metrics/slis,/livez,/readyz,/healthz,/livez/*,/readyz/*,/healthz/*'),
    ]),
    clusterRole('system:basic-user', [
      rule('create', 'authorization.k8s.io', 'selfsubjectaccessreviews,selfsubjectrulesreviews'),
      rule('create', 'authentication.k8s.io', 'selfsubjectreviews'),
    ]),
    clusterRole('system:public-info-viewer', [urlRule('get', '/livez,/readyz,/healthz,/version,/version/')]),
    aggregated('admin', AGG_ADMIN),
    aggregated('edit', AGG_EDIT, { [AGG_ADMIN]: 'true' }),
    aggregated('view', AGG_VIEW, { [AGG_EDIT]: 'true' }),
    clusterRole(
      'system:aggregate-to-admin',
      [
        rule('create', 'authorization.k8s.io', 'localsubjectaccessreviews'),
        rule(RW, 'rbac.authorization.k8s.io', 'roles,rolebindings'),
      ],
      { [AGG_ADMIN]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-edit',
      [
        rule(READ, '', 'pods/attach,pods/proxy,pods/exec,pods/portforward,secrets,services/proxy'),
        rule('impersonate', '', 'serviceaccounts'),
        rule(WRITE, '', 'pods,pods/attach,pods/proxy,pods/exec,pods/portforward'),
        rule('create', '', 'pods/eviction'),
        rule(
          WRITE,
          '',
          'replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,services/proxy,persistentvolumeclaims,configmaps,secrets,events',
        ),
        rule('create', '', 'serviceaccounts/token'),
        rule(
          WRITE,
          'apps',
          'statefulsets,statefulsets/scale,daemonsets,deployments,deployments/scale,deployments/rollback,replicasets,replicasets/scale',
        ),
        rule(WRITE, 'autoscaling', 'horizontalpodautoscalers'),
        rule(WRITE, 'batch', 'jobs,cronjobs'),
        rule(
          WRITE,
          'extensions',
          'daemonsets,deployments,deployments/scale,deployments/rollback,ingresses,replicasets,replicasets/scale,replicationcontrollers/scale,networkpolicies',
        ),
        rule(WRITE, 'policy', 'poddisruptionbudgets'),
        rule(WRITE, 'networking.k8s.io', 'ingresses,networkpolicies'),
        rule(RW, 'coordination.k8s.io', 'leases'),
      ],
      { [AGG_EDIT]: 'true' },
    ),
    clusterRole(
      'system:aggregate-to-view',
      [
        rule(
          READ,
          '',
          'pods,replicationcontrollers,replicationcontrollers/scale,serviceaccounts,services,services/status,endpoints,persistentvolumeclaims,persistentvolumeclaims/status,configmaps',
        ),
        rule(
          READ,
          '',
          'limitranges,resourcequotas,bindings,events,pods/status,resourcequotas/status,namespaces/status,replicationcontrollers/status,pods/log',
        ),
        rule(READ, '', 'namespaces'),
        rule(READ, 'discovery.k8s.io', 'endpointslices'),
        rule(
          READ,
          'apps',
          'controllerrevisions,statefulsets,statefulsets/status,statefulsets/scale,daemonsets,daemonsets/status,deployments,deployments/status,deployments/scale,replicasets,replicasets/status,replicasets/scale',
        ),
        rule(READ, 'autoscaling', 'horizontalpodautoscalers,horizontalpodautoscalers/status'),
        rule(READ, 'batch', 'jobs,cronjobs,cronjobs/status,jobs/status'),
        rule(
          READ,
          'extensions',
          'daemonsets,daemonsets/status,deployments,deployments/scale,deployments/status,ingresses,ingresses/status,replicasets,replicasets/scale,replicasets/status,replicationcontrollers/scale,networkpolicies',
        ),
        rule(READ, 'policy', 'poddisruptionbudgets,poddisruptionbudgets/status'),
        rule(READ, 'networking.k8s.io', 'ingresses,ingresses/status,networkpolicies'),
      ],
      { [AGG_VIEW]: 'true' },
    ),
    // metrics-server's reader role (k3s ships it with metrics-server; kts serves metrics.k8s.io).
    clusterRole('system:aggregated-metrics-reader', [rule(READ, 'metrics.k8s.io', 'pods,nodes')], {
      [AGG_VIEW]: 'true',
      [AGG_EDIT]: 'true',
      [AGG_ADMIN]: 'true',
    }),
    clusterRole('system:heapster', [
      rule(READ, '', 'events,pods,nodes,namespaces'),
      rule(READ, 'extensions', 'deployments'),
    ]),
    clusterRole('system:node', nodeRules()),
    clusterRole('system:node-problem-detector', [
      rule('get', '', 'nodes'),
      rule('patch', '', 'nodes/status'),
      eventsRule(),
    ]),
    clusterRole('system:kubelet-api-admin', [
      rule(READ, '', 'nodes'),
      rule('proxy', '', 'nodes'),
      rule('*', '', 'nodes/proxy,nodes/metrics,nodes/stats,nodes/log'),
    ]),
    clusterRole('system:node-bootstrapper', [
      rule('create,get,list,watch', 'certificates.k8s.io', 'certificatesigningrequests'),
    ]),
    clusterRole('system:auth-delegator', [
      rule('create', 'authentication.k8s.io', 'tokenreviews'),
      rule('create', 'authorization.k8s.io', 'subjectaccessreviews'),
    ]),
    clusterRole('system:kube-aggregator', [rule(READ, '', 'services,endpoints')]),
    clusterRole('system:kube-controller-manager', [
      eventsRule(),
      rule('create', 'coordination.k8s.io', 'leases'),
      rule('get,update', 'coordination.k8s.io', 'leases', 'kube-controller-manager'),
      rule('create', '', 'secrets,serviceaccounts'),
      rule('delete', '', 'secrets'),
      rule('get', '', 'namespaces,secrets,serviceaccounts,configmaps'),
      rule('update', '', 'secrets,serviceaccounts'),
      rule('create', 'authentication.k8s.io', 'tokenreviews'),
      rule('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      rule('list,watch', '*', '*'),
      rule('create', '', 'serviceaccounts/token'),
    ]),
    clusterRole('system:kube-dns', [rule('list,watch', '', 'endpoints,services')]),
    clusterRole('system:persistent-volume-provisioner', [
      rule('create,delete,get,list,watch', '', 'persistentvolumes'),
      rule('get,list,update,watch', '', 'persistentvolumeclaims'),
      rule(READ, 'storage.k8s.io', 'storageclasses'),
      rule('watch', '', 'events'),
      eventsRule(),
    ]),
    clusterRole(
      'system:certificates.k8s.io:kube-apiserver-client-approver',
      approver('kubernetes.io/kube-apiserver-client'),
    ),
    clusterRole(
      'system:certificates.k8s.io:kube-apiserver-client-kubelet-approver',
      approver('kubernetes.io/kube-apiserver-client-kubelet'),
    ),
    clusterRole(
      'system:certificates.k8s.io:kubelet-serving-approver',
      approver('kubernetes.io/kubelet-serving'),
    ),
    clusterRole(
      'system:certificates.k8s.io:legacy-unknown-approver',
      approver('kubernetes.io/legacy-unknown'),
    ),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:nodeclient', [
      rule('create', 'certificates.k8s.io', 'certificatesigningrequests/nodeclient'),
    ]),
    clusterRole('system:certificates.k8s.io:certificatesigningrequests:selfnodeclient', [
      rule('create', 'certificates.k8s.io', 'certificatesigningrequests/selfnodeclient'),
    ]),
    clusterRole('system:service-account-issuer-discovery', [
      urlRule(
        'get',
        '/.well-known/openid-configuration,/.well-known/openid-configuration/,/openid/v1/jwks,/openid/v1/jwks/',
      ),
    ]),
    clusterRole('system:kube-scheduler', [
      eventsRule(),
      rule('create', 'coordination.k8s.io', 'leases'),
      rule('get,update', 'coordination.k8s.io', 'leases', 'kube-scheduler'),
      rule(READ, '', 'nodes'),
      rule('get,list,watch,delete', '', 'pods'),
      rule('create', '', 'pods/binding,bindings'),
      rule('patch,update', '', 'pods/status'),
      rule(READ, '', 'replicationcontrollers,services'),
      rule(READ, 'apps,extensions', 'replicasets'),
      rule(READ, 'apps', 'statefulsets'),
      rule(READ, 'policy', 'poddisruptionbudgets'),
      rule(READ, '', 'persistentvolumeclaims,persistentvolumes'),
      rule('create', 'authentication.k8s.io', 'tokenreviews'),
      rule('create', 'authorization.k8s.io', 'subjectaccessreviews'),
      rule(READ, 'storage.k8s.io', 'csinodes'),
      rule(READ, '', 'namespaces'),
      rule(READ, 'storage.k8s.io', 'csidrivers'),
      rule(READ, 'storage.k8s.io', 'csistoragecapacities'),
    ]),
    clusterRole('system:volume-scheduler', [
      rule('get,list,watch,update,patch', '', 'persistentvolumes'),
      rule(READ, 'storage.k8s.io', 'storageclasses'),
      rule('get,list,watch,update,patch', '', 'persistentvolumeclaims'),
    ]),
    clusterRole('system:node-proxier', [
      rule('list,watch', '', 'services,endpoints'),
      rule(READ, '', 'nodes'),
      eventsRule(),
      rule('list,watch', 'discovery.k8s.io', 'endpointslices'),
    ]),
    // kts additions: cluster DNS reads slices and pods (CoreDNS's own RBAC), and kube-proxy
    // writes LoadBalancer ingress as k3s's ServiceLB does.
    clusterRole('system:kts-dns', [
      rule('list,watch', '', 'services,endpoints,pods,namespaces'),
      rule('list,watch', 'discovery.k8s.io', 'endpointslices'),
    ]),
    clusterRole('system:kts-service-lb', [rule('get,update,patch', '', 'services/status')]),
  ];
  return [...roles, ...controllerRoles()].sort(byName);
}

/** The default ClusterRoleBindings (controller bindings included). */
export function clusterRoleBindings(): ClusterRoleBinding[] {
  const bindings = [
    clusterBinding('cluster-admin', subjects('Group:system:masters')),
    clusterBinding('system:monitoring', subjects('Group:system:monitoring')),
    clusterBinding('system:discovery', subjects('Group:system:authenticated')),
    clusterBinding('system:basic-user', subjects('Group:system:authenticated')),
    clusterBinding(
      'system:public-info-viewer',
      subjects('Group:system:authenticated', 'Group:system:unauthenticated'),
    ),
    clusterBinding('system:node-proxier', subjects('User:system:kube-proxy')),
    clusterBinding('system:kube-controller-manager', subjects('User:system:kube-controller-manager')),
    clusterBinding('system:kube-dns', subjects('ServiceAccount:kube-system/kube-dns')),
    clusterBinding('system:kube-scheduler', subjects('User:system:kube-scheduler')),
    clusterBinding('system:kts-dns', subjects('User:system:kts-dns')),
    clusterBinding('system:kts-service-lb', subjects('User:system:kube-proxy')),
    clusterBinding('system:volume-scheduler', subjects('User:system:kube-scheduler')),
    // Nodes get their permissions from the Node authorizer; the binding exists without subjects.
    clusterBinding('system:node', []),
    clusterBinding('system:service-account-issuer-discovery', subjects('Group:system:serviceaccounts')),
  ];
  return [...bindings, ...controllerRoleBindings()].sort(byName);
}

function role(namespace: string, name: string, rules: PolicyRule[]): Role {
  return { apiVersion: `${RBAC_GROUP}/v1`, kind: 'Role', metadata: meta(name, {}, namespace), rules };
}

function roleBinding(namespace: string, name: string, roleName: string, subs: Subject[]): RoleBinding {
  return {
    apiVersion: `${RBAC_GROUP}/v1`,
    kind: 'RoleBinding',
    metadata: meta(name, {}, namespace),
    roleRef: { apiGroup: RBAC_GROUP, kind: 'Role', name: roleName },
    subjects: subs,
  };
}

const LEADER_LOCKING = (): PolicyRule[] => [
  rule('watch,get,list,create,update', 'coordination.k8s.io', 'leases'),
  rule('watch,get,list,create,update', 'coordination.k8s.io', 'leasecandidates'),
];

/** The default namespaced Roles (kube-system, kube-public). */
export function namespaceRoles(): Role[] {
  return [
    role('kube-system', 'extension-apiserver-authentication-reader', [
      rule(READ, '', 'configmaps', 'extension-apiserver-authentication'),
    ]),
    role('kube-system', 'system::leader-locking-kube-controller-manager', LEADER_LOCKING()),
    role('kube-system', 'system::leader-locking-kube-scheduler', LEADER_LOCKING()),
    role('kube-system', 'system:controller:bootstrap-signer', [rule(READ, '', 'secrets')]),
    role('kube-system', 'system:controller:cloud-provider', [
      rule('create,get,list,watch', '', 'configmaps'),
    ]),
    role('kube-system', 'system:controller:token-cleaner', [
      rule('delete,get,list,watch', '', 'secrets'),
      eventsRule(),
    ]),
    role('kube-public', 'system:controller:bootstrap-signer', [
      rule(READ, '', 'configmaps'),
      rule('update', '', 'configmaps', 'cluster-info'),
      eventsRule(),
    ]),
  ];
}

/** The default namespaced RoleBindings. */
export function namespaceRoleBindings(): RoleBinding[] {
  return [
    roleBinding(
      'kube-system',
      'system::extension-apiserver-authentication-reader',
      'extension-apiserver-authentication-reader',
      subjects('User:system:kube-controller-manager', 'User:system:kube-scheduler'),
    ),
    roleBinding(
      'kube-system',
      'system::leader-locking-kube-controller-manager',
      'system::leader-locking-kube-controller-manager',
      subjects(
        'User:system:kube-controller-manager',
        'ServiceAccount:kube-system/kube-controller-manager',
        'ServiceAccount:kube-system/leader-election-controller',
      ),
    ),
    roleBinding(
      'kube-system',
      'system::leader-locking-kube-scheduler',
      'system::leader-locking-kube-scheduler',
      subjects('User:system:kube-scheduler', 'ServiceAccount:kube-system/kube-scheduler'),
    ),
    roleBinding(
      'kube-system',
      'system:controller:bootstrap-signer',
      'system:controller:bootstrap-signer',
      subjects('ServiceAccount:kube-system/bootstrap-signer'),
    ),
    roleBinding(
      'kube-system',
      'system:controller:cloud-provider',
      'system:controller:cloud-provider',
      subjects('ServiceAccount:kube-system/cloud-provider'),
    ),
    roleBinding(
      'kube-system',
      'system:controller:token-cleaner',
      'system:controller:token-cleaner',
      subjects('ServiceAccount:kube-system/token-cleaner'),
    ),
    roleBinding(
      'kube-public',
      'system:controller:bootstrap-signer',
      'system:controller:bootstrap-signer',
      subjects('ServiceAccount:kube-system/bootstrap-signer'),
    ),
  ];
}

function byName(a: { metadata?: { name?: string } }, b: { metadata?: { name?: string } }): number {
  const x = a.metadata?.name ?? '';
  const y = b.metadata?.name ?? '';
  return x < y ? -1 : x > y ? 1 : 0;
}
