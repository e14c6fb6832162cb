// Defaults of the workload kinds: apps/v1 Deployment, ReplicaSet, StatefulSet, DaemonSet
// (upstream pkg/apis/apps/v1/defaults.go), batch/v1 Job and CronJob (pkg/apis/batch/v1/
// defaults.go), and core/v1 ReplicationController and PodTemplate. Every pod template gets
// the pod spec defaults; templates also carry `metadata.creationTimestamp: null`, which Go's
// JSON encoding of a zero ObjectMeta always prints and clients see on every read.
import type { DaemonSet, Deployment, ReplicaSet, StatefulSet } from '../generated/types/apps-v1.js';
import type { CronJob, Job, JobSpec } from '../generated/types/batch-v1.js';
import type {
  PersistentVolumeClaim,
  PodTemplate,
  PodTemplateSpec,
  ReplicationController,
} from '../generated/types/core-v1.js';
import type { ObjectMeta } from '../generated/types/meta-v1.js';
import { defaultPersistentVolumeClaim } from './core.js';
import { defaultPodTemplateSpec } from './pod.js';

const MAX_INT32 = 2147483647;

/** Gives an embedded ObjectMeta the `creationTimestamp: null` Go prints for a zero time. */
export function defaultEmbeddedMeta<T extends { metadata?: ObjectMeta }>(holder: T): void {
  let md = holder.metadata;
  if (md == null) {
    md = {};
    holder.metadata = md;
  }
  if (!('creationTimestamp' in md)) (md as Record<string, unknown>).creationTimestamp = null;
}

/** Pod defaults plus the embedded-metadata rendering of one pod template. */
export function defaultTemplate(t: PodTemplateSpec | undefined | null): void {
  if (t == null) return;
  defaultEmbeddedMeta(t);
  defaultPodTemplateSpec(t);
}

/** SetDefaults_Deployment. */
export function defaultDeployment(d: Deployment): void {
  const spec = d.spec;
  if (spec == null) return;
  if (spec.replicas == null) spec.replicas = 1;
  if (spec.strategy == null) spec.strategy = {};
  const strategy = spec.strategy;
  if (!strategy.type) strategy.type = 'RollingUpdate';
  if (strategy.type === 'RollingUpdate') {
    if (strategy.rollingUpdate == null) strategy.rollingUpdate = {};
    const ru = strategy.rollingUpdate;
    if (ru.maxUnavailable == null) ru.maxUnavailable = '25%';
    if (ru.maxSurge == null) ru.maxSurge = '25%';
  }
  if (spec.revisionHistoryLimit == null) spec.revisionHistoryLimit = 10;
  if (spec.progressDeadlineSeconds == null) spec.progressDeadlineSeconds = 600;
  defaultTemplate(spec.template);
}

/** SetDefaults_ReplicaSet. */
export function defaultReplicaSet(rs: ReplicaSet): void {
  const spec = rs.spec;
  if (spec == null) return;
  if (spec.replicas == null) spec.replicas = 1;
  defaultTemplate(spec.template);
}

/** SetDefaults_StatefulSet (with the PVC retention policy, on by default in 1.32). */
export function defaultStatefulSet(ss: StatefulSet): void {
  const spec = ss.spec;
  if (spec == null) return;
  if (!spec.podManagementPolicy) spec.podManagementPolicy = 'OrderedReady';
  if (spec.updateStrategy == null) spec.updateStrategy = {};
  const us = spec.updateStrategy;
  if (!us.type) {
    us.type = 'RollingUpdate';
    if (us.rollingUpdate == null) us.rollingUpdate = {};
  }
  if (us.type === 'RollingUpdate' && us.rollingUpdate != null && us.rollingUpdate.partition == null) {
    us.rollingUpdate.partition = 0;
  }
  if (spec.persistentVolumeClaimRetentionPolicy == null) spec.persistentVolumeClaimRetentionPolicy = {};
  const ret = spec.persistentVolumeClaimRetentionPolicy;
  if (!ret.whenDeleted) ret.whenDeleted = 'Retain';
  if (!ret.whenScaled) ret.whenScaled = 'Retain';
  if (spec.replicas == null) spec.replicas = 1;
  if (spec.revisionHistoryLimit == null) spec.revisionHistoryLimit = 10;
  defaultTemplate(spec.template);
  const claims = spec.volumeClaimTemplates;
  if (Array.isArray(claims)) {
    for (const pvc of claims) {
      if (pvc == null) continue;
      defaultEmbeddedMeta(pvc);
      defaultPersistentVolumeClaim(pvc as PersistentVolumeClaim);
    }
  }
}

/** SetDefaults_DaemonSet. */
export function defaultDaemonSet(ds: DaemonSet): void {
  const spec = ds.spec;
  if (spec == null) return;
  if (spec.updateStrategy == null) spec.updateStrategy = {};
  const us = spec.updateStrategy;
  if (!us.type) us.type = 'RollingUpdate';
  if (us.type === 'RollingUpdate') {
    if (us.rollingUpdate == null) us.rollingUpdate = {};
    if (us.rollingUpdate.maxUnavailable == null) us.rollingUpdate.maxUnavailable = 1;
    if (us.rollingUpdate.maxSurge == null) us.rollingUpdate.maxSurge = 0;
  }
  if (spec.revisionHistoryLimit == null) spec.revisionHistoryLimit = 10;
  defaultTemplate(spec.template);
}

/** SetDefaults_Job (JobPodReplacementPolicy is on by default in 1.32). */
export function defaultJob(job: Job): void {
  const spec = job.spec;
  if (spec == null) return;
  // A non-parallel job may leave both unset; then both are 1.
  if (spec.completions == null && spec.parallelism == null) {
    spec.completions = 1;
    spec.parallelism = 1;
  }
  if (spec.parallelism == null) spec.parallelism = 1;
  if (spec.backoffLimit == null) spec.backoffLimit = spec.backoffLimitPerIndex != null ? MAX_INT32 : 6;
  const templateLabels = spec.template?.metadata?.labels;
  if (templateLabels != null) {
    const md = job.metadata ?? {};
    if (md.labels == null || Object.keys(md.labels).length === 0) {
      md.labels = { ...templateLabels };
      job.metadata = md;
    }
  }
  if (!spec.completionMode) spec.completionMode = 'NonIndexed';
  if (spec.suspend == null) spec.suspend = false;
  defaultPodFailurePolicy(spec);
  if (spec.podReplacementPolicy == null) {
    spec.podReplacementPolicy = spec.podFailurePolicy != null ? 'Failed' : 'TerminatingOrFailed';
  }
  defaultTemplate(spec.template);
}

function defaultPodFailurePolicy(spec: JobSpec): void {
  for (const rule of spec.podFailurePolicy?.rules ?? []) {
    for (const pattern of rule?.onPodConditions ?? []) {
      if (pattern != null && !pattern.status) pattern.status = 'True';
    }
  }
}

/** SetDefaults_CronJob; the job template gets pod template defaults but not Job defaults. */
export function defaultCronJob(cj: CronJob): void {
  const spec = cj.spec;
  if (spec == null) return;
  if (!spec.concurrencyPolicy) spec.concurrencyPolicy = 'Allow';
  if (spec.suspend == null) spec.suspend = false;
  if (spec.successfulJobsHistoryLimit == null) spec.successfulJobsHistoryLimit = 3;
  if (spec.failedJobsHistoryLimit == null) spec.failedJobsHistoryLimit = 1;
  const jt = spec.jobTemplate;
  if (jt == null) return;
  defaultEmbeddedMeta(jt);
  if (jt.spec != null) {
    defaultPodFailurePolicy(jt.spec);
    defaultTemplate(jt.spec.template);
  }
}

/** SetDefaults_ReplicationController: selector and labels from the template, replicas 1. */
export function defaultReplicationController(rc: ReplicationController): void {
  const spec = rc.spec;
  if (spec == null) return;
  const labels = spec.template?.metadata?.labels;
  if (labels != null) {
    if (spec.selector == null || Object.keys(spec.selector).length === 0) spec.selector = { ...labels };
    const md = rc.metadata ?? {};
    if (md.labels == null || Object.keys(md.labels).length === 0) {
      md.labels = { ...labels };
      rc.metadata = md;
    }
  }
  if (spec.replicas == null) spec.replicas = 1;
  defaultTemplate(spec.template);
}

/** A core/v1 PodTemplate object. */
export function defaultPodTemplate(pt: PodTemplate): void {
  defaultTemplate(pt.template);
}
