// Validation of Pods, pod specs and pod templates (upstream pkg/apis/core/validation:
// ValidatePodCreate, ValidatePodSpec, ValidateVolumes, ValidatePodTemplateSpec,
// ValidatePodUpdate). A pod update may change only images, activeDeadlineSeconds (down),
// tolerations (additions) and a negative terminationGracePeriodSeconds to 1; anything else is
// upstream's `spec: Forbidden: pod updates may not change fields other than …` — without the
// Go struct diff upstream appends after a newline, which kts cannot render faithfully.
import type { FieldError } from '../../machinery/status-error.js';
import {
  inclusiveRangeError,
  isValidLabelValue,
  nameIsDNSSubdomain,
  validateLabelName,
  validateServiceAccountName,
} from '../../machinery/validation/names.js';
import type {
  Container,
  Pod,
  PodSpec,
  PodTemplateSpec,
  Toleration,
  Volume,
} from '../generated/types/core-v1.js';
import { validateContainerCommon, validateContainerRoleRules } from './container.js';
import {
  duplicate,
  forbidden,
  invalidEach,
  invalidValue,
  jsonEqual,
  listOf,
  notSupported,
  required,
} from './field.js';
import {
  memoDNS1123Label,
  memoDNS1123Subdomain,
  memoNameFunc,
  validateAnnotationsMemo,
  validateLabelsMemo,
} from './memo.js';
import { validateObjectMeta, validateObjectMetaUpdate } from './object-meta.js';

const podName = memoNameFunc(nameIsDNSSubdomain);
const serviceAccountName = memoNameFunc(validateServiceAccountName);

const MAX_INT32 = 2147483647;
const FILE_MODE_ERROR = 'must be a number between 0 and 0777 (octal), both inclusive';

/** The fields a pod update may change, as upstream lists them in its Forbidden message. */
export const UPDATABLE_POD_SPEC_FIELDS = [
  '`spec.containers[*].image`',
  '`spec.initContainers[*].image`',
  '`spec.activeDeadlineSeconds`',
  '`spec.tolerations` (only additions to existing tolerations)',
  '`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)',
];

/** ValidatePodCreate without the feature-gated extras. */
export function validatePod(pod: Pod): FieldError[] {
  const errs = validateObjectMeta(pod.metadata, true, podName);
  errs.push(...validatePodSpec(pod.spec, 'spec'));
  return errs;
}

/** ValidatePodTemplateSpec at path (e.g. `spec.template`). */
export function validatePodTemplateSpec(
  t: PodTemplateSpec | undefined | null,
  path: string,
  extraVolumes: readonly string[] = [],
): FieldError[] {
  const errs: FieldError[] = [];
  const md = t?.metadata;
  errs.push(...validateLabelsMemo(md?.labels, `${path}.metadata.labels`));
  errs.push(...validateAnnotationsMemo(md?.annotations, `${path}.metadata.annotations`));
  errs.push(...validatePodSpec(t?.spec, `${path}.spec`, extraVolumes));
  return errs;
}

const VOLUME_SOURCES = [
  'hostPath',
  'emptyDir',
  'gcePersistentDisk',
  'awsElasticBlockStore',
  'gitRepo',
  'secret',
  'nfs',
  'iscsi',
  'glusterfs',
  'persistentVolumeClaim',
  'rbd',
  'flexVolume',
  'cinder',
  'cephfs',
  'flocker',
  'downwardAPI',
  'fc',
  'azureFile',
  'configMap',
  'vsphereVolume',
  'quobyte',
  'azureDisk',
  'photonPersistentDisk',
  'projected',
  'portworxVolume',
  'scaleIO',
  'storageos',
  'csi',
  'ephemeral',
  'image',
] as const;

const VOLUME_SOURCE_SET: ReadonlySet<string> = new Set(VOLUME_SOURCES);

function fileMode(mode: number | undefined | null, path: string): FieldError[] {
  return mode != null && (mode < 0 || mode > 0o777) ? [invalidValue(path, mode, FILE_MODE_ERROR)] : [];
}

function validateVolumeSource(v: Volume, path: string): FieldError[] {
  const errs: FieldError[] = [];
  const rec = v as unknown as Record<string, unknown>;
  // Counting over the volume's own few keys is cheaper than probing all thirty sources; the
  // ordered probe runs only to word the (rare) error of several sources.
  let n = 0;
  for (const k in rec) if (VOLUME_SOURCE_SET.has(k) && rec[k] != null) n++;
  if (n > 1) {
    n = 0;
    for (const k of VOLUME_SOURCES) {
      if (rec[k] == null) continue;
      if (n > 0) errs.push(forbidden(`${path}.${k}`, 'may not specify more than 1 volume type'));
      n++;
    }
  }
  if (n === 0) errs.push(required(path, 'must specify a volume type'));
  if (v.secret != null) {
    if ((v.secret.secretName ?? '') === '') errs.push(required(`${path}.secret.secretName`));
    errs.push(...fileMode(v.secret.defaultMode, `${path}.secret.defaultMode`));
  }
  if (v.configMap != null) {
    if ((v.configMap.name ?? '') === '') errs.push(required(`${path}.configMap.name`));
    errs.push(...fileMode(v.configMap.defaultMode, `${path}.configMap.defaultMode`));
  }
  if (v.hostPath != null && (v.hostPath.path ?? '') === '') errs.push(required(`${path}.hostPath.path`));
  if (v.persistentVolumeClaim != null && (v.persistentVolumeClaim.claimName ?? '') === '') {
    errs.push(required(`${path}.persistentVolumeClaim.claimName`));
  }
  if (v.projected != null) errs.push(...fileMode(v.projected.defaultMode, `${path}.projected.defaultMode`));
  if (v.downwardAPI != null)
    errs.push(...fileMode(v.downwardAPI.defaultMode, `${path}.downwardAPI.defaultMode`));
  return errs;
}

/** ValidateVolumes: names are unique DNS labels, exactly one source each; returns valid names. */
export function validateVolumes(
  volumes: readonly Volume[],
  path: string,
): { errs: FieldError[]; names: Set<string> } {
  const errs: FieldError[] = [];
  const names = new Set<string>();
  volumes.forEach((v, i) => {
    const idx = `${path}[${i}]`;
    const e = validateVolumeSource(v, idx);
    const name = v.name ?? '';
    if (name === '') e.push(required(`${idx}.name`));
    else e.push(...invalidEach(`${idx}.name`, name, memoDNS1123Label(name)));
    if (names.has(name)) e.push(duplicate(`${idx}.name`, name));
    if (e.length === 0) names.add(name);
    else errs.push(...e);
  });
  return { errs, names };
}

function validateRestartPolicy(p: string, path: string): FieldError[] {
  if (p === 'Always' || p === 'OnFailure' || p === 'Never') return [];
  if (p === '') return [required(path)];
  return [notSupported(path, p, ['Always', 'OnFailure', 'Never'])];
}

function validateDNSPolicy(p: string, path: string): FieldError[] {
  if (p === 'ClusterFirstWithHostNet' || p === 'ClusterFirst' || p === 'Default' || p === 'None') return [];
  if (p === '') return [required(path)];
  return [notSupported(path, p, ['ClusterFirstWithHostNet', 'ClusterFirst', 'Default', 'None'])];
}

function validateContainerList(
  list: readonly Container[],
  role: 'regular' | 'init' | 'ephemeral',
  volumes: ReadonlySet<string>,
  seen: Set<string>,
  path: string,
): FieldError[] {
  const errs: FieldError[] = [];
  list.forEach((c, i) => {
    const idx = `${path}[${i}]`;
    errs.push(...validateContainerCommon(c, volumes, idx));
    const name = c.name ?? '';
    if (seen.has(name)) errs.push(duplicate(`${idx}.name`, name));
    else seen.add(name);
    errs.push(...validateContainerRoleRules(c, role, idx));
  });
  return errs;
}

function validateTolerations(tols: readonly Toleration[], path: string): FieldError[] {
  const errs: FieldError[] = [];
  tols.forEach((t, i) => {
    const idx = `${path}[${i}]`;
    const key = t.key ?? '';
    const op = t.operator ?? '';
    if (key !== '') errs.push(...validateLabelName(key, `${idx}.key`));
    if (key === '' && op !== 'Exists') {
      errs.push(
        invalidValue(
          `${idx}.operator`,
          op,
          'operator must be Exists when `key` is empty, which means "match all values and all keys"',
        ),
      );
    }
    if (t.tolerationSeconds != null && t.effect !== 'NoExecute') {
      errs.push(
        invalidValue(
          `${idx}.effect`,
          t.effect ?? '',
          "effect must be 'NoExecute' when `tolerationSeconds` is set",
        ),
      );
    }
    if (op === '' || op === 'Equal') {
      const msgs = isValidLabelValue(t.value ?? '');
      if (msgs.length > 0) errs.push(invalidValue(`${idx}.operator`, t, msgs.join(';')));
    } else if (op === 'Exists') {
      if ((t.value ?? '') !== '') {
        errs.push(invalidValue(`${idx}.operator`, t, "value must be empty when `operator` is 'Exists'"));
      }
    } else {
      errs.push(notSupported(`${idx}.operator`, op, ['Equal', 'Exists']));
    }
    const effect = t.effect ?? '';
    if (effect !== '' && effect !== 'NoSchedule' && effect !== 'PreferNoSchedule' && effect !== 'NoExecute') {
      errs.push(notSupported(`${idx}.effect`, effect, ['NoSchedule', 'PreferNoSchedule', 'NoExecute']));
    }
  });
  return errs;
}

/** ValidatePodSpec at path (`spec`, or `spec.template.spec` inside workloads). */
export function validatePodSpec(
  spec: PodSpec | undefined | null,
  path: string,
  extraVolumes: readonly string[] = [],
): FieldError[] {
  const s: Partial<PodSpec> = spec ?? {};
  const { errs, names: volumes } = validateVolumes(listOf(s.volumes), `${path}.volumes`);
  for (const v of extraVolumes) volumes.add(v);
  const containers = listOf(s.containers);
  if (containers.length === 0) errs.push(required(`${path}.containers`));
  const seen = new Set<string>();
  errs.push(...validateContainerList(containers, 'regular', volumes, seen, `${path}.containers`));
  errs.push(
    ...validateContainerList(listOf(s.initContainers), 'init', volumes, seen, `${path}.initContainers`),
  );
  errs.push(
    ...validateContainerList(
      listOf(s.ephemeralContainers as Container[]),
      'ephemeral',
      volumes,
      seen,
      `${path}.ephemeralContainers`,
    ),
  );
  errs.push(...validateRestartPolicy(s.restartPolicy ?? '', `${path}.restartPolicy`));
  errs.push(...validateDNSPolicy(s.dnsPolicy ?? '', `${path}.dnsPolicy`));
  errs.push(...validateLabelsMemo(s.nodeSelector, `${path}.nodeSelector`));
  const sa = s.serviceAccountName ?? '';
  if (sa !== '') errs.push(...invalidEach(`${path}.serviceAccountName`, sa, serviceAccountName(sa, false)));
  const node = s.nodeName ?? '';
  if (node !== '') errs.push(...invalidEach(`${path}.nodeName`, node, memoDNS1123Subdomain(node)));
  const ads = s.activeDeadlineSeconds;
  if (ads != null && (ads < 1 || ads > MAX_INT32)) {
    errs.push(invalidValue(`${path}.activeDeadlineSeconds`, ads, inclusiveRangeError(1, MAX_INT32)));
  }
  if ((s.hostname ?? '') !== '')
    errs.push(...invalidEach(`${path}.hostname`, s.hostname, memoDNS1123Label(s.hostname ?? '')));
  if ((s.subdomain ?? '') !== '') {
    errs.push(...invalidEach(`${path}.subdomain`, s.subdomain, memoDNS1123Label(s.subdomain ?? '')));
  }
  errs.push(...validateTolerations(listOf(s.tolerations), `${path}.tolerations`));
  const pcn = s.priorityClassName ?? '';
  if (pcn !== '') errs.push(...invalidEach(`${path}.priorityClassName`, pcn, memoDNS1123Subdomain(pcn)));
  return errs;
}

/** ValidatePodUpdate: metadata rules, the new spec's validity, and the narrow set of mutable fields. */
export function validatePodUpdate(pod: Pod, old: Pod): FieldError[] {
  const errs = validateObjectMetaUpdate(pod.metadata, old.metadata);
  errs.push(...validatePodSpec(pod.spec, 'spec'));
  const ns: Partial<PodSpec> = pod.spec ?? {};
  const os: Partial<PodSpec> = old.spec ?? {};
  for (const [key, label] of [
    ['containers', 'spec.containers'],
    ['initContainers', 'spec.initContainers'],
  ] as const) {
    const nl = listOf(ns[key]);
    const ol = listOf(os[key]);
    if (nl.length !== ol.length) {
      errs.push(forbidden(label, 'pod updates may not add or remove containers'));
      return errs;
    }
    nl.forEach((c, i) => {
      const image = c.image ?? '';
      if (image === '') errs.push(required(`${label}[${i}].image`));
      if (image.trim().length !== image.length) {
        errs.push(
          invalidValue(`${label}[${i}].image`, image, 'must not have leading or trailing whitespace'),
        );
      }
    });
  }
  const nads = ns.activeDeadlineSeconds;
  const oads = os.activeDeadlineSeconds;
  if (nads != null) {
    if (nads < 0 || nads > MAX_INT32) {
      errs.push(invalidValue('spec.activeDeadlineSeconds', nads, inclusiveRangeError(0, MAX_INT32)));
      return errs;
    }
    if (oads != null && oads < nads) {
      errs.push(
        invalidValue('spec.activeDeadlineSeconds', nads, 'must be less than or equal to previous value'),
      );
      return errs;
    }
  } else if (oads != null) {
    errs.push(
      invalidValue(
        'spec.activeDeadlineSeconds',
        null,
        'must not update from a positive integer to nil value',
      ),
    );
  }
  errs.push(...validateOnlyAddedTolerations(listOf(ns.tolerations), listOf(os.tolerations)));
  if (jsonEqual(ns, os)) return errs;
  if (!jsonEqual(mungePodSpec(ns, os), os)) {
    errs.push(
      forbidden(
        'spec',
        `pod updates may not change fields other than ${UPDATABLE_POD_SPEC_FIELDS.join(',')}`,
      ),
    );
  }
  return errs;
}

// The new spec with every field an update may change replaced by the old value, so that any
// remaining difference is a forbidden change.
function mungePodSpec(ns: Partial<PodSpec>, os: Partial<PodSpec>): Partial<PodSpec> {
  const withOldImages = (
    nl: Container[] | undefined,
    ol: Container[] | undefined,
  ): Container[] | undefined => {
    if (!Array.isArray(nl)) return nl;
    return nl.map((c, i) => ({ ...c, image: ol?.[i]?.image ?? c.image }) as Container);
  };
  const out: Partial<PodSpec> = { ...ns };
  out.containers = withOldImages(ns.containers, os.containers) ?? [];
  const inits = withOldImages(ns.initContainers, os.initContainers);
  if (inits !== undefined) out.initContainers = inits;
  else delete out.initContainers;
  for (const k of ['activeDeadlineSeconds', 'tolerations'] as const) {
    if (os[k] === undefined) delete out[k];
    else (out as Record<string, unknown>)[k] = os[k];
  }
  const ntg = ns.terminationGracePeriodSeconds;
  const otg = os.terminationGracePeriodSeconds;
  if (otg != null && otg < 0 && ntg === 1) out.terminationGracePeriodSeconds = otg;
  return out;
}

// Existing tolerations must stay; only their tolerationSeconds may change.
function validateOnlyAddedTolerations(nt: readonly Toleration[], ot: readonly Toleration[]): FieldError[] {
  const errs: FieldError[] = [];
  for (const old of ot) {
    const found = nt.some((t) =>
      jsonEqual({ ...t, tolerationSeconds: undefined }, { ...old, tolerationSeconds: undefined }),
    );
    if (!found) {
      errs.push(
        forbidden('spec.tolerations', 'existing toleration can not be modified except its tolerationSeconds'),
      );
      return errs;
    }
  }
  return errs;
}
