// Job podFailurePolicy (upstream pkg/controller/job/pod_failure_policy.go): the first rule
// matching a failed pod decides what its failure means — FailJob ends the Job, Ignore does
// not count it against backoffLimit, Count counts it, FailIndex fails its index. Rules
// match on container exit codes (In/NotIn, exit code 0 never matches) or pod conditions.
import type { Job, PodFailurePolicyRule } from '../../api/generated/types/batch-v1.js';
import type { ContainerStatus, Pod } from '../../api/generated/types/core-v1.js';

/** The outcome of matching a failed pod against the policy. */
export interface PolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  /** Set for FailJob: the message of the FailureTarget/Failed conditions. */
  message?: string;
}

function exitCodeMatch(rule: PodFailurePolicyRule, pod: Pod): ContainerStatus | undefined {
  const req = rule.onExitCodes;
  if (req === undefined) return undefined;
  const statuses = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])];
  for (const cs of statuses) {
    if (req.containerName !== undefined && req.containerName !== '' && cs.name !== req.containerName)
      continue;
    const code = cs.state?.terminated?.exitCode;
    if (code === undefined || code === 0) continue;
    const inValues = req.values.includes(code);
    if ((req.operator === 'In' && inValues) || (req.operator === 'NotIn' && !inValues)) return cs;
  }
  return undefined;
}

function conditionMatch(rule: PodFailurePolicyRule, pod: Pod): string | undefined {
  for (const pattern of rule.onPodConditions ?? []) {
    const want = pattern.status ?? 'True';
    const c = (pod.status?.conditions ?? []).find((x) => x.type === pattern.type && x.status === want);
    if (c !== undefined) return c.type;
  }
  return undefined;
}

/** The action of the first rule matching a failed pod, or undefined (count it normally). */
export function matchPodFailurePolicy(job: Job, pod: Pod): PolicyMatch | undefined {
  const rules = job.spec?.podFailurePolicy?.rules ?? [];
  const podRef = `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i] as PodFailurePolicyRule;
    const action = rule.action as PolicyMatch['action'];
    const cs = exitCodeMatch(rule, pod);
    if (cs !== undefined) {
      if (action !== 'FailJob') return { action };
      return {
        action,
        message: `Container ${cs.name} for pod ${podRef} failed with exit code ${cs.state?.terminated?.exitCode ?? 0} matching FailJob rule at index ${i}`,
      };
    }
    const cond = conditionMatch(rule, pod);
    if (cond !== undefined) {
      if (action !== 'FailJob') return { action };
      return { action, message: `Pod ${podRef} has condition ${cond} matching FailJob rule at index ${i}` };
    }
  }
  return undefined;
}
