// Upstream's warnings for suspicious pod specs (pkg/api/pod/warnings.go as of 1.32): texts
// the API server returns in `Warning` headers, never errors. Pure: a spec and its metadata
// in, warning strings out. A pod's paths start at `spec`/`metadata`; a template's carry
// its prefix (`spec.template`, `template`, `spec.jobTemplate.spec.template`).
import type {
  Container,
  ContainerPort,
  NodeSelectorTerm,
  PersistentVolumeClaimSpec,
  PodAffinityTerm,
  PodSpec,
  Volume,
  WeightedPodAffinityTerm,
} from '../generated/types/core-v1.js';
import type { ObjectMeta } from '../generated/types/meta-v1.js';
import { goQuote } from '../../machinery/go-format.js';
import { type Quantity, QuantityParseError, quantityFromJSON } from '../../machinery/quantity.js';
import { overlappingVolumePathWarnings } from './volume-path-overlap.js';

/** The metadata and spec of a pod or pod template, as the warnings read them. */
export interface PodTemplateLike {
  metadata?: ObjectMeta;
  spec?: PodSpec;
}

// Node labels upstream deprecated (pkg/api/node/util.go).
const DEPRECATED_NODE_LABELS: ReadonlyMap<string, string> = new Map([
  ['beta.kubernetes.io/arch', 'deprecated since v1.14; use "kubernetes.io/arch" instead'],
  ['beta.kubernetes.io/os', 'deprecated since v1.14; use "kubernetes.io/os" instead'],
  [
    'failure-domain.beta.kubernetes.io/region',
    'deprecated since v1.17; use "topology.kubernetes.io/region" instead',
  ],
  [
    'failure-domain.beta.kubernetes.io/zone',
    'deprecated since v1.17; use "topology.kubernetes.io/zone" instead',
  ],
  [
    'beta.kubernetes.io/instance-type',
    'deprecated since v1.17; use "node.kubernetes.io/instance-type" instead',
  ],
  ['app.kubernetes.io/created-by', 'deprecated since v1.9'],
  [
    'scheduler.alpha.kubernetes.io/preferAvoidPods',
    'deprecated since v1.22; use Taints and Tolerations instead',
  ],
  ['node-role.kubernetes.io/master', 'use "node-role.kubernetes.io/control-plane" instead'],
]);

// Pod annotations that no longer do anything.
const DEPRECATED_ANNOTATIONS: ReadonlyArray<{ key: string; message: string }> = [
  {
    key: 'scheduler.alpha.kubernetes.io/critical-pod',
    message: 'non-functional in v1.16+; use the "priorityClassName" field instead',
  },
  {
    key: 'security.alpha.kubernetes.io/sysctls',
    message: 'non-functional in v1.11+; use the "sysctls" field instead',
  },
  {
    key: 'security.alpha.kubernetes.io/unsafe-sysctls',
    message: 'non-functional in v1.11+; use the "sysctls" field instead',
  },
];

// In-tree volume plugins on their way out, with upstream's path segment and note.
const RETIRED_VOLUME_PLUGINS: ReadonlyArray<{ field: keyof Volume; segment: string; note: string }> = [
  {
    field: 'photonPersistentDisk',
    segment: 'photonPersistentDisk',
    note: 'deprecated in v1.11, non-functional in v1.16+',
  },
  { field: 'gitRepo', segment: 'gitRepo', note: 'deprecated in v1.11' },
  { field: 'scaleIO', segment: 'scaleIO', note: 'deprecated in v1.16, non-functional in v1.22+' },
  { field: 'flocker', segment: 'flocker', note: 'deprecated in v1.22, non-functional in v1.25+' },
  { field: 'storageos', segment: 'storageOS', note: 'deprecated in v1.22, non-functional in v1.25+' },
  { field: 'quobyte', segment: 'quobyte', note: 'deprecated in v1.22, non-functional in v1.25+' },
  { field: 'glusterfs', segment: 'glusterfs', note: 'deprecated in v1.25, non-functional in v1.26+' },
];

// Checked after the ephemeral volume's claim, as upstream orders them.
const LATE_RETIRED_VOLUME_PLUGINS: ReadonlyArray<{ field: keyof Volume; segment: string; note: string }> = [
  { field: 'cephfs', segment: 'cephfs', note: 'deprecated in v1.28, non-functional in v1.31+' },
  { field: 'rbd', segment: 'rbd', note: 'deprecated in v1.28, non-functional in v1.31+' },
];

const SECCOMP_POD_ANNOTATION = 'seccomp.security.alpha.kubernetes.io/pod';
const SECCOMP_CONTAINER_ANNOTATION_PREFIX = 'container.seccomp.security.alpha.kubernetes.io/';
/** Prefix of the per-container AppArmor annotation the `appArmorProfile` fields replaced. */
export const APPARMOR_ANNOTATION_PREFIX = 'container.apparmor.security.beta.kubernetes.io/';
const SECCOMP_MESSAGE = 'non-functional in v1.27+; use the "seccompProfile" field instead';
const APPARMOR_MESSAGE = 'deprecated since v1.30; use the "appArmorProfile" field instead';
const NULL_SELECTOR = 'a null labelSelector results in matching no pod';

/** A field path joined upstream's way (field.Path.String()): `a.b[key][0]`. */
export function fieldPath(prefix: string, ...names: string[]): string {
  const tail = names.join('.');
  if (prefix === '') return tail;
  return tail === '' ? prefix : `${prefix}.${tail}`;
}

/** The message for a deprecated node label, or undefined when the label is current. */
export function deprecatedNodeLabelMessage(key: string): string | undefined {
  return DEPRECATED_NODE_LABELS.get(key);
}

/** Warnings for the deprecated label keys a node selector term matches on. */
export function nodeSelectorTermWarnings(term: NodeSelectorTerm, path: string): string[] {
  const out: string[] = [];
  (term.matchExpressions ?? []).forEach((e, i) => {
    const msg = deprecatedNodeLabelMessage(e.key);
    if (msg !== undefined) out.push(`${path}.matchExpressions[${i}].key: ${e.key} is ${msg}`);
  });
  return out;
}

/** A quantity from a stored object, or undefined when absent or unreadable. */
function quantity(v: unknown): Quantity | undefined {
  try {
    return quantityFromJSON(v);
  } catch (e) {
    if (e instanceof QuantityParseError) return undefined;
    throw e;
  }
}

// Bytes cannot be split: a memory or storage amount must be a whole number. Upstream tests
// MilliValue() % 1000, with MilliValue rounded away from zero.
function fractionalBytes(v: unknown, path: string): string | undefined {
  const q = quantity(v);
  if (q === undefined || q.scaledValueBig(-3) % 1000n === 0n) return undefined;
  return `${path}: fractional byte value ${goQuote(q.toString())} is invalid, must be an integer`;
}

/** Upstream's GetWarningsForPersistentVolumeClaimSpec: fractional storage requests and limits. */
export function persistentVolumeClaimSpecWarnings(
  path: string,
  spec: PersistentVolumeClaimSpec | undefined,
): string[] {
  const out: string[] = [];
  const req = fractionalBytes(spec?.resources?.requests?.storage, `${path}.resources.requests[storage]`);
  if (req !== undefined) out.push(req);
  const lim = fractionalBytes(spec?.resources?.limits?.storage, `${path}.resources.limits[storage]`);
  if (lim !== undefined) out.push(lim);
  return out;
}

/** Every container of a spec with its path, in upstream's VisitContainersWithPath order. */
function containersWithPath(spec: PodSpec, specPath: string): Array<[Container, string]> {
  const out: Array<[Container, string]> = [];
  (spec.initContainers ?? []).forEach((c, i) => {
    out.push([c, `${specPath}.initContainers[${i}]`]);
  });
  (spec.containers ?? []).forEach((c, i) => {
    out.push([c, `${specPath}.containers[${i}]`]);
  });
  (spec.ephemeralContainers ?? []).forEach((c, i) => {
    out.push([c as Container, `${specPath}.ephemeralContainers[${i}]`]);
  });
  return out;
}

/** Go's `%+v` of the internal ContainerPort struct (field order Name, HostPort, ContainerPort, Protocol, HostIP). */
function goPortStruct(p: ContainerPort): string {
  return `{Name:${p.name ?? ''} HostPort:${p.hostPort ?? 0} ContainerPort:${p.containerPort} Protocol:${p.protocol ?? ''} HostIP:${p.hostIP ?? ''}}`;
}

function affinityTermWarnings(terms: PodAffinityTerm[] | undefined, path: string): string[] {
  const out: string[] = [];
  (terms ?? []).forEach((t, i) => {
    if (t.labelSelector === undefined || t.labelSelector === null)
      out.push(`${path}[${i}].labelSelector: ${NULL_SELECTOR}`);
  });
  return out;
}

function weightedAffinityTermWarnings(terms: WeightedPodAffinityTerm[] | undefined, path: string): string[] {
  const out: string[] = [];
  (terms ?? []).forEach((t, i) => {
    const sel = t.podAffinityTerm?.labelSelector;
    if (sel === undefined || sel === null)
      out.push(`${path}[${i}].podAffinityTerm.labelSelector: ${NULL_SELECTOR}`);
  });
  return out;
}

function nodeAffinityWarnings(spec: PodSpec, prefix: string): string[] {
  const out: string[] = [];
  for (const k of Object.keys(spec.nodeSelector ?? {})) {
    const msg = deprecatedNodeLabelMessage(k);
    if (msg !== undefined) out.push(`${fieldPath(prefix, 'spec', 'nodeSelector')}[${k}]: ${msg}`);
  }
  const na = spec.affinity?.nodeAffinity;
  if (na !== undefined) {
    const base = fieldPath(prefix, 'spec', 'affinity', 'nodeAffinity');
    const required = na.requiredDuringSchedulingIgnoredDuringExecution;
    if (required !== undefined) {
      (required.nodeSelectorTerms ?? []).forEach((term, i) => {
        out.push(
          ...nodeSelectorTermWarnings(
            term,
            `${base}.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[${i}]`,
          ),
        );
      });
    }
    (na.preferredDuringSchedulingIgnoredDuringExecution ?? []).forEach((p, i) => {
      out.push(
        ...nodeSelectorTermWarnings(
          p.preference ?? {},
          `${base}.preferredDuringSchedulingIgnoredDuringExecution[${i}].preference`,
        ),
      );
    });
  }
  (spec.topologySpreadConstraints ?? []).forEach((t, i) => {
    const base = `${fieldPath(prefix, 'spec', 'topologySpreadConstraints')}[${i}]`;
    const msg = deprecatedNodeLabelMessage(t.topologyKey);
    if (msg !== undefined) out.push(`${base}.topologyKey: ${t.topologyKey} is ${msg}`);
    if (t.labelSelector === undefined || t.labelSelector === null)
      out.push(`${base}.labelSelector: ${NULL_SELECTOR}`);
  });
  return out;
}

function volumePluginWarnings(spec: PodSpec, prefix: string): string[] {
  const out: string[] = [];
  (spec.volumes ?? []).forEach((v, i) => {
    const base = `${fieldPath(prefix, 'spec', 'volumes')}[${i}]`;
    for (const p of RETIRED_VOLUME_PLUGINS)
      if (v[p.field] != null) out.push(`${base}.${p.segment}: ${p.note}`);
    const claim = v.ephemeral?.volumeClaimTemplate;
    if (claim != null)
      out.push(
        ...persistentVolumeClaimSpecWarnings(`${base}.ephemeral.volumeClaimTemplate.spec`, claim.spec),
      );
    for (const p of LATE_RETIRED_VOLUME_PLUGINS)
      if (v[p.field] != null) out.push(`${base}.${p.segment}: ${p.note}`);
  });
  return out;
}

// Repeated entries that the last-applied merge of `kubectl apply` would collapse.
function duplicateEntryWarnings(spec: PodSpec, prefix: string): string[] {
  const out: string[] = [];
  const aliases = spec.hostAliases ?? [];
  if (aliases.length > 1) {
    const seen = new Set<string>();
    aliases.forEach((a, i) => {
      const ip = a.ip ?? '';
      if (seen.has(ip))
        out.push(`${fieldPath(prefix, 'spec', 'hostAliases')}[${i}].ip: duplicate ip ${goQuote(ip)}`);
      else seen.add(ip);
    });
  }
  const secrets = spec.imagePullSecrets ?? [];
  const secretsPath = fieldPath(prefix, 'spec', 'imagePullSecrets');
  if (secrets.length > 1) {
    const seen = new Set<string>();
    secrets.forEach((s, i) => {
      const name = s.name ?? '';
      if (seen.has(name)) out.push(`${secretsPath}[${i}].name: duplicate name ${goQuote(name)}`);
      else seen.add(name);
    });
  }
  secrets.forEach((s, i) => {
    const name = s.name ?? '';
    if (name === '') out.push(`${secretsPath}[${i}].name: invalid empty name ${goQuote(name)}`);
  });
  return out;
}

// A later env entry of the same name replaces the earlier one unless it builds on it
// with a `$(NAME)` reference; apply's merge keys on the name and may drop one of them.
function envWarnings(c: Container, path: string): string[] {
  const env = c.env ?? [];
  if (env.length < 2) return [];
  const out: string[] = [];
  const seen = new Set<string>();
  env.forEach((e, i) => {
    if (!seen.has(e.name)) {
      seen.add(e.name);
      return;
    }
    const ref = `$(${e.name})`;
    const value = e.value ?? '';
    const bad = e.valueFrom != null || value === ref || !value.includes(ref);
    if (bad)
      out.push(
        `${path}.env[${i}]: hides previous definition of ${goQuote(e.name)}, which may be dropped when using apply`,
      );
  });
  return out;
}

function containerWarnings(spec: PodSpec, meta: ObjectMeta, prefix: string): string[] {
  const out: string[] = [];
  const annotations = meta.annotations ?? {};
  const annPath = (k: string) => `${fieldPath(prefix, 'metadata', 'annotations')}[${k}]`;
  const podAppArmor = spec.securityContext?.appArmorProfile != null;
  for (const [c, p] of containersWithPath(spec, fieldPath(prefix, 'spec'))) {
    const seccompKey = SECCOMP_CONTAINER_ANNOTATION_PREFIX + c.name;
    if (c.securityContext?.seccompProfile == null && seccompKey in annotations) {
      out.push(`${annPath(seccompKey)}: ${SECCOMP_MESSAGE}`);
    }
    // A pod's AppArmor annotations are reported when its create syncs them to the fields.
    const appArmorKey = APPARMOR_ANNOTATION_PREFIX + c.name;
    const hasAppArmorField = podAppArmor || c.securityContext?.appArmorProfile != null;
    if (prefix !== '' && !hasAppArmorField && appArmorKey in annotations) {
      out.push(`${annPath(appArmorKey)}: ${APPARMOR_MESSAGE}`);
    }
    const res = c.resources;
    for (const [kind, name] of [
      ['limits', 'memory'],
      ['requests', 'memory'],
      ['limits', 'ephemeral-storage'],
      ['requests', 'ephemeral-storage'],
    ] as const) {
      const w = fractionalBytes(res?.[kind]?.[name], `${p}.resources.${kind}[${name}]`);
      if (w !== undefined) out.push(w);
    }
    out.push(...envWarnings(c, p));
  }
  return out;
}

// Ports collide across all containers of a pod: they share one network namespace.
function portWarnings(spec: PodSpec, prefix: string): string[] {
  const out: string[] = [];
  const seen = new Map<string, Array<{ path: string; port: ContainerPort }>>();
  for (const [c, p] of containersWithPath(spec, fieldPath(prefix, 'spec'))) {
    (c.ports ?? []).forEach((port, i) => {
      const path = `${p}.ports[${i}]`;
      const hostIP = port.hostIP ?? '';
      const hostPort = port.hostPort ?? 0;
      if (hostIP !== '' && hostPort === 0)
        out.push(`${path}: hostIP set without hostPort: ${goPortStruct(port)}`);
      const key = `${port.containerPort}/${port.protocol ?? ''}`;
      const others = seen.get(key) ?? [];
      for (const other of others) {
        const otherIP = other.port.hostIP ?? '';
        const otherPort = other.port.hostPort ?? 0;
        if (hostIP === otherIP && hostPort === otherPort) {
          out.push(`${path}: duplicate port definition with ${other.path}`);
        } else if (hostPort === 0 || otherPort === 0) {
          out.push(`${path}: overlapping port definition with ${other.path}`);
        } else if (hostPort === otherPort && (hostIP === '') !== (otherIP === '')) {
          out.push(`${path}: dangerously ambiguous port definition with ${other.path}`);
        }
      }
      others.push({ path, port });
      seen.set(key, others);
    });
  }
  return out;
}

/** Upstream's warningsForPodSpecAndMeta: every check, in upstream's order, under `prefix`. */
export function podSpecWarnings(
  prefix: string,
  spec: PodSpec | undefined,
  meta: ObjectMeta | undefined,
): string[] {
  const s: PodSpec = spec ?? { containers: [] };
  const m: ObjectMeta = meta ?? {};
  const annotations = m.annotations ?? {};
  const out = nodeAffinityWarnings(s, prefix);
  for (const d of DEPRECATED_ANNOTATIONS) {
    if (d.key in annotations)
      out.push(`${fieldPath(prefix, 'metadata', 'annotations')}[${d.key}]: ${d.message}`);
  }
  out.push(...volumePluginWarnings(s, prefix));
  out.push(...overlappingVolumePathWarnings(s.volumes ?? []));
  out.push(...duplicateEntryWarnings(s, prefix));
  for (const name of ['memory', 'ephemeral-storage']) {
    const w = fractionalBytes(s.overhead?.[name], `${fieldPath(prefix, 'spec', 'overhead')}[${name}]`);
    if (w !== undefined) out.push(w);
  }
  if (s.securityContext?.seccompProfile == null && SECCOMP_POD_ANNOTATION in annotations) {
    out.push(
      `${fieldPath(prefix, 'metadata', 'annotations')}[${SECCOMP_POD_ANNOTATION}]: ${SECCOMP_MESSAGE}`,
    );
  }
  out.push(...containerWarnings(s, m, prefix));
  out.push(...portWarnings(s, prefix));
  const grace = s.terminationGracePeriodSeconds;
  if (typeof grace === 'number' && grace < 0) {
    out.push(
      `${fieldPath(prefix, 'spec', 'terminationGracePeriodSeconds')}: must be >= 0; negative values are invalid and will be treated as 1`,
    );
  }
  for (const kind of ['podAffinity', 'podAntiAffinity'] as const) {
    const a = s.affinity?.[kind];
    if (a == null) continue;
    const base = fieldPath(prefix, 'spec', 'affinity', kind);
    out.push(
      ...affinityTermWarnings(
        a.requiredDuringSchedulingIgnoredDuringExecution,
        `${base}.requiredDuringSchedulingIgnoredDuringExecution`,
      ),
      ...weightedAffinityTermWarnings(
        a.preferredDuringSchedulingIgnoredDuringExecution,
        `${base}.preferredDuringSchedulingIgnoredDuringExecution`,
      ),
    );
  }
  return out;
}

/** Upstream's GetWarningsForPod: paths from the pod's root. */
export function podWarnings(pod: PodTemplateLike): string[] {
  return podSpecWarnings('', pod.spec, pod.metadata);
}

/** Upstream's GetWarningsForPodTemplate: paths under `path` (e.g. `spec.template`). */
export function podTemplateWarnings(path: string, template: PodTemplateLike | undefined): string[] {
  if (template == null) return [];
  return podSpecWarnings(path, template.spec, template.metadata);
}
