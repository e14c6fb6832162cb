// Cluster-level kinds: RBAC bindings (Roles and ClusterRoles print the default table),
// Leases, PriorityClasses, RuntimeClasses, APIServices, CertificateSigningRequests,
// admission configuration, API priority and fairness, storage versions and dynamic
// resource allocation.
import type {
  MutatingAdmissionPolicy,
  MutatingWebhookConfiguration,
  ParamKind,
  ParamRef,
  ValidatingAdmissionPolicy,
  ValidatingWebhookConfiguration,
} from '../../api/generated/types/admissionregistration-v1.js';
import type { APIService } from '../../api/generated/types/apiregistration-v1.js';
import type { StorageVersion } from '../../api/generated/types/apiserverinternal-v1alpha1.js';
import type { CertificateSigningRequest } from '../../api/generated/types/certificates-v1.js';
import type { Lease } from '../../api/generated/types/coordination-v1.js';
import type { LeaseCandidate } from '../../api/generated/types/coordination-v1alpha2.js';
import type { FlowSchema, PriorityLevelConfiguration } from '../../api/generated/types/flowcontrol-v1.js';
import type { LabelSelector } from '../../api/generated/types/meta-v1.js';
import type { RuntimeClass } from '../../api/generated/types/node-v1.js';
import type { RoleBinding, Subject } from '../../api/generated/types/rbac-v1.js';
import type { ResourceClaim, ResourceSlice } from '../../api/generated/types/resource-v1beta1.js';
import type { PriorityClass } from '../../api/generated/types/scheduling-v1.js';
import { humanDuration } from '../../machinery/duration.js';
import type { KObject } from '../registry/object.js';
import {
  AGE_COLUMN,
  NAME_COLUMN,
  age,
  arr,
  byteCompare,
  column,
  findCondition,
  int,
  listWithMore,
  nameOf,
} from './format.js';
import type { ResourcePrinter } from './table.js';

// rbac.SubjectsStrings: users, groups and `namespace/name` of service accounts.
function subjectCells(subjects: Subject[] | undefined): [string, string, string] {
  const users: string[] = [];
  const groups: string[] = [];
  const sas: string[] = [];
  for (const s of arr(subjects)) {
    if (s.kind === 'ServiceAccount') sas.push(`${s.namespace ?? ''}/${s.name}`);
    else if (s.kind === 'User') users.push(s.name);
    else if (s.kind === 'Group') groups.push(s.name);
  }
  return [users.join(', '), groups.join(', '), sas.join(', ')];
}

/** RoleBindings and ClusterRoleBindings: ROLE is `Kind/name`. */
export const ROLE_BINDINGS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Role', 'string', 'The role the binding grants.'),
    AGE_COLUMN,
    column('Users', 'string', 'Users of the binding.', { wide: true }),
    column('Groups', 'string', 'Groups of the binding.', { wide: true }),
    column('ServiceAccounts', 'string', 'Service accounts of the binding.', { wide: true }),
  ],
  cells(obj, ctx) {
    const rb = obj as unknown as RoleBinding;
    const [users, groups, sas] = subjectCells(rb.subjects);
    return [
      nameOf(obj),
      `${rb.roleRef?.kind ?? ''}/${rb.roleRef?.name ?? ''}`,
      age(obj, ctx.nowMs),
      users,
      groups,
      sas,
    ];
  },
};

/** Leases: HOLDER is the holder identity. */
export const LEASES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('Holder', 'string', 'The current holder of the lease.'), AGE_COLUMN],
  cells(obj, ctx) {
    return [nameOf(obj), (obj as unknown as Lease).spec?.holderIdentity ?? '', age(obj, ctx.nowMs)];
  },
};

/** LeaseCandidates (coordinated leader election). */
export const LEASE_CANDIDATES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('LeaseName', 'string', 'The lease the candidate runs for.'),
    column('BinaryVersion', 'string', 'The binary version of the candidate.'),
    column('EmulationVersion', 'string', 'The emulation version of the candidate.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as LeaseCandidate).spec;
    return [
      nameOf(obj),
      spec?.leaseName ?? '',
      spec?.binaryVersion ?? '',
      spec?.emulationVersion ?? '',
      age(obj, ctx.nowMs),
    ];
  },
};

/** PriorityClasses. */
export const PRIORITY_CLASSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Value', 'integer', 'The priority of pods of this class.'),
    column('Global-Default', 'boolean', 'Whether pods without a class get this one.'),
    AGE_COLUMN,
    column('PreemptionPolicy', 'string', 'Whether pods of this class preempt others.', { wide: true }),
  ],
  cells(obj, ctx) {
    const pc = obj as unknown as PriorityClass;
    return [
      nameOf(obj),
      int(pc.value),
      pc.globalDefault ?? false,
      age(obj, ctx.nowMs),
      pc.preemptionPolicy ?? '',
    ];
  },
};

/** RuntimeClasses. */
export const RUNTIME_CLASSES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Handler', 'string', 'The runtime handler pods of this class use.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    return [nameOf(obj), (obj as unknown as RuntimeClass).handler ?? '', age(obj, ctx.nowMs)];
  },
};

/** APIServices (the aggregator's own table): SERVICE is `Local` for built-in groups. */
export const API_SERVICES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Service', 'string', 'The service that serves the API, or Local.'),
    column('Available', 'string', 'Whether the API is available, and why not.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const svc = obj as unknown as APIService;
    const ref = svc.spec?.service;
    const service = ref ? `${ref.namespace ?? ''}/${ref.name ?? ''}` : 'Local';
    let available = 'Unknown';
    const c = findCondition(svc.status?.conditions, 'Available');
    if (c) {
      if (c.status === 'True') available = c.status;
      else if (c.reason) available = `${c.status} (${c.reason})`;
      else available = c.status;
    }
    return [nameOf(obj), service, available, age(obj, ctx.nowMs)];
  },
};

/** The CONDITION cell of a CSR: `Pending`, `Approved,Issued`, `Denied`, … */
export function csrConditionCell(csr: CertificateSigningRequest): string {
  let approved = false;
  let denied = false;
  let failed = false;
  for (const c of arr(csr.status?.conditions)) {
    if (c.type === 'Approved') approved = true;
    else if (c.type === 'Denied') denied = true;
    else if (c.type === 'Failed') failed = true;
  }
  let status = denied ? 'Denied' : approved ? 'Approved' : 'Pending';
  if (failed) status += ',Failed';
  if (csr.status?.certificate) status += ',Issued';
  return status;
}

/** CertificateSigningRequests (AGE comes second upstream). */
export const CERTIFICATE_SIGNING_REQUESTS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    AGE_COLUMN,
    column('SignerName', 'string', 'The signer asked to sign.'),
    column('Requestor', 'string', 'The user who made the request.'),
    column('RequestedDuration', 'string', 'The validity the request asks for.'),
    column('Condition', 'string', 'Approval and issuance state.'),
  ],
  cells(obj, ctx) {
    const csr = obj as unknown as CertificateSigningRequest;
    const seconds = csr.spec?.expirationSeconds;
    return [
      nameOf(obj),
      age(obj, ctx.nowMs),
      csr.spec?.signerName || '<none>',
      csr.spec?.username ?? '',
      typeof seconds === 'number' ? humanDuration(seconds * 1000) : '<none>',
      csrConditionCell(csr),
    ];
  },
};

/** ClusterTrustBundles (no AGE column upstream). */
export const CLUSTER_TRUST_BUNDLES: ResourcePrinter = {
  columns: [NAME_COLUMN, column('SignerName', 'string', 'The signer the bundle belongs to.')],
  cells(obj) {
    const spec = obj.spec as { signerName?: string } | undefined;
    return [nameOf(obj), spec?.signerName || '<none>'];
  },
};

function webhookPrinter(): ResourcePrinter {
  return {
    columns: [NAME_COLUMN, column('Webhooks', 'integer', 'Webhooks in the configuration.'), AGE_COLUMN],
    cells(obj, ctx) {
      const cfg = obj as unknown as MutatingWebhookConfiguration | ValidatingWebhookConfiguration;
      return [nameOf(obj), arr(cfg.webhooks).length, age(obj, ctx.nowMs)];
    },
  };
}

/** MutatingWebhookConfigurations. */
export const MUTATING_WEBHOOKS: ResourcePrinter = webhookPrinter();
/** ValidatingWebhookConfigurations. */
export const VALIDATING_WEBHOOKS: ResourcePrinter = webhookPrinter();

function paramKindCell(pk: ParamKind | undefined): string {
  return pk ? `${pk.apiVersion ?? ''}/${pk.kind ?? ''}` : '<unset>';
}

// The gogo-protobuf String() of a metav1.LabelSelector, which upstream prints verbatim.
function labelSelectorGoString(ls: LabelSelector): string {
  const labels = ls.matchLabels ?? {};
  let ml = 'map[string]string{';
  for (const k of Object.keys(labels).sort(byteCompare)) ml += `${k}: ${labels[k]},`;
  ml += '}';
  let me = '[]LabelSelectorRequirement{';
  for (const r of arr(ls.matchExpressions)) {
    me += `LabelSelectorRequirement{Key:${r.key},Operator:${r.operator},Values:[${arr(r.values).join(' ')}],},`;
  }
  me += '}';
  return `&LabelSelector{MatchLabels:${ml},MatchExpressions:${me},}`;
}

function paramRefCell(pr: ParamRef | undefined): string {
  if (!pr) return '<unset>';
  if (pr.name) return pr.namespace ? `${pr.namespace}/${pr.name}` : `*/${pr.name}`;
  if (pr.selector) return labelSelectorGoString(pr.selector);
  return '<unset>';
}

/** ValidatingAdmissionPolicies. */
export const VALIDATING_ADMISSION_POLICIES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Validations', 'integer', 'Validation rules of the policy.'),
    column('ParamKind', 'string', 'The kind of the policy parameters.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as ValidatingAdmissionPolicy).spec;
    return [nameOf(obj), arr(spec?.validations).length, paramKindCell(spec?.paramKind), age(obj, ctx.nowMs)];
  },
};

/** MutatingAdmissionPolicies. */
export const MUTATING_ADMISSION_POLICIES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Mutations', 'integer', 'Mutations of the policy.'),
    column('ParamKind', 'string', 'The kind of the policy parameters.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as MutatingAdmissionPolicy).spec;
    return [nameOf(obj), arr(spec?.mutations).length, paramKindCell(spec?.paramKind), age(obj, ctx.nowMs)];
  },
};

/** Validating and mutating admission policy bindings. */
export const ADMISSION_POLICY_BINDINGS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('PolicyName', 'string', 'The policy the binding applies.'),
    column('ParamRef', 'string', 'The parameters the binding passes.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = obj.spec as { policyName?: string; paramRef?: ParamRef } | undefined;
    return [nameOf(obj), spec?.policyName ?? '', paramRefCell(spec?.paramRef), age(obj, ctx.nowMs)];
  },
};

/** FlowSchemas, listed in matching order (precedence, then name). */
export const FLOW_SCHEMAS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('PriorityLevel', 'string', 'The priority level requests are assigned to.'),
    column('MatchingPrecedence', 'string', 'Lower values match first.'),
    column('DistinguisherMethod', 'string', 'How requests are split into flows.'),
    AGE_COLUMN,
    column('MissingPL', 'string', 'Whether the priority level is missing.'),
  ],
  cells(obj, ctx) {
    const fs = obj as unknown as FlowSchema;
    const spec = fs.spec;
    const dangling = findCondition(fs.status?.conditions, 'Dangling');
    return [
      nameOf(obj),
      spec?.priorityLevelConfiguration?.name ?? '',
      int(spec?.matchingPrecedence),
      spec?.distinguisherMethod ? spec.distinguisherMethod.type : '<none>',
      age(obj, ctx.nowMs),
      dangling ? (dangling.status ?? '') : '?',
    ];
  },
  order(objects) {
    return [...objects].sort((a, b) => {
      const pa = int((a as unknown as FlowSchema).spec?.matchingPrecedence);
      const pb = int((b as unknown as FlowSchema).spec?.matchingPrecedence);
      return pa !== pb ? pa - pb : byteCompare(nameOf(a), nameOf(b));
    });
  },
};

/** PriorityLevelConfigurations: limits print `<none>` for exempt levels. */
export const PRIORITY_LEVEL_CONFIGURATIONS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Type', 'string', 'Limited or Exempt.'),
    column('NominalConcurrencyShares', 'string', 'Share of the server concurrency.'),
    column('Queues', 'string', 'Number of queues.'),
    column('HandSize', 'string', 'Queues a flow is shuffled over.'),
    column('QueueLengthLimit', 'string', 'Requests a queue may hold.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as PriorityLevelConfiguration).spec;
    let ncs: unknown = '<none>';
    let queues: unknown = '<none>';
    let handSize: unknown = '<none>';
    let queueLengthLimit: unknown = '<none>';
    const limited = spec?.limited;
    if (limited) {
      ncs = int(limited.nominalConcurrencyShares);
      const q = limited.limitResponse?.queuing;
      if (q) {
        queues = int(q.queues);
        handSize = int(q.handSize);
        queueLengthLimit = int(q.queueLengthLimit);
      }
    }
    return [nameOf(obj), spec?.type ?? '', ncs, queues, handSize, queueLengthLimit, age(obj, ctx.nowMs)];
  },
};

/** StorageVersions (internal.apiserver.k8s.io). */
export const STORAGE_VERSIONS: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('CommonEncodingVersion', 'string', 'The encoding version all servers agree on.'),
    column('StorageVersions', 'string', 'Encoding versions per API server.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const status = (obj as unknown as StorageVersion).status;
    const max = 3;
    const list: string[] = [];
    let more = false;
    let count = 0;
    for (const sv of arr(status?.storageVersions)) {
      if (list.length < max) list.push(`${sv.apiServerID ?? ''}=${sv.encodingVersion ?? ''}`);
      else if (list.length === max) more = true;
      count++;
    }
    return [
      nameOf(obj),
      status?.commonEncodingVersion ?? '<unset>',
      listWithMore(list, more, count, max),
      age(obj, ctx.nowMs),
    ];
  },
};

/** StorageVersionMigrations (the Name column lacks the name format upstream). */
export const STORAGE_VERSION_MIGRATIONS: ResourcePrinter = {
  columns: [
    column('Name', 'string', 'Name of the object.'),
    column('Resource', 'string', 'The resource to migrate, as resource.version.group.'),
  ],
  cells(obj) {
    const r = (obj.spec as { resource?: { group?: string; version?: string; resource?: string } } | undefined)
      ?.resource;
    return [nameOf(obj), `${r?.resource ?? ''}.${r?.version ?? ''}.${r?.group ?? ''}`];
  },
};

function nameAgePrinter(): ResourcePrinter {
  return {
    columns: [NAME_COLUMN, AGE_COLUMN],
    cells: (obj: KObject, ctx) => [nameOf(obj), age(obj, ctx.nowMs)],
  };
}

/** DeviceClasses (resource.k8s.io). */
export const DEVICE_CLASSES: ResourcePrinter = nameAgePrinter();
/** ResourceClaimTemplates (resource.k8s.io). */
export const RESOURCE_CLAIM_TEMPLATES: ResourcePrinter = nameAgePrinter();

/** ResourceClaims: STATE is `pending`, `allocated,reserved`, `deleted`, … */
export const RESOURCE_CLAIMS: ResourcePrinter = {
  columns: [NAME_COLUMN, column('State', 'string', 'Allocation state of the claim.'), AGE_COLUMN],
  cells(obj, ctx) {
    const claim = obj as unknown as ResourceClaim;
    const deleting = Boolean(obj.metadata?.deletionTimestamp);
    const states: string[] = [];
    if (deleting) states.push('deleted');
    if (!claim.status?.allocation) {
      if (!deleting) states.push('pending');
    } else {
      states.push('allocated');
      if (arr(claim.status.reservedFor).length > 0) states.push('reserved');
    }
    return [nameOf(obj), states.join(','), age(obj, ctx.nowMs)];
  },
};

/** ResourceSlices. */
export const RESOURCE_SLICES: ResourcePrinter = {
  columns: [
    NAME_COLUMN,
    column('Node', 'string', 'The node the devices are on.'),
    column('Driver', 'string', 'The driver that publishes the slice.'),
    column('Pool', 'string', 'The pool the slice belongs to.'),
    AGE_COLUMN,
  ],
  cells(obj, ctx) {
    const spec = (obj as unknown as ResourceSlice).spec;
    return [
      nameOf(obj),
      spec?.nodeName ?? '',
      spec?.driver ?? '',
      spec?.pool?.name ?? '',
      age(obj, ctx.nowMs),
    ];
  },
};
