// A pod as the scheduler keeps it: the object plus what every cycle would otherwise recompute
// (resource requests, parsed affinity terms). Built once when the pod enters the cache or
// the queue.

import type { Pod, PodAffinityTerm, WeightedPodAffinityTerm } from '../../api/generated/types/core-v1.js';
import { labelSelectorAsSelector } from '../../machinery/labels/label-selector.js';
import type { Labels, Selector } from '../../machinery/labels/selector.js';
import { computePodRequests, type Resource } from './resource.js';

/** A pod affinity term with its selectors parsed (upstream's framework.AffinityTerm). */
export interface AffinityTerm {
  namespaces: ReadonlySet<string>;
  selector: Selector;
  topologyKey: string;
  namespaceSelector: Selector;
}

/** A preferred term with its weight. */
export interface WeightedAffinityTerm extends AffinityTerm {
  weight: number;
}

/** True when the term selects pod (in a namespace with nsLabels). */
export function affinityTermMatches(term: AffinityTerm, pod: Pod, nsLabels: Labels | undefined): boolean {
  const ns = pod.metadata?.namespace ?? '';
  if (term.namespaces.has(ns) || term.namespaceSelector.matches(nsLabels ?? {})) {
    return term.selector.matches(pod.metadata?.labels ?? {});
  }
  return false;
}

/** The key the scheduler uses for a pod: its uid, or namespace/name before it has one. */
export function podKey(pod: Pod): string {
  const uid = pod.metadata?.uid;
  if (uid !== undefined && uid !== '') return uid;
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** namespace/name for messages. */
export function podName(pod: Pod): string {
  return `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
}

/** spec.priority, 0 when unset (upstream's corev1helpers.PodPriority). */
export function podPriority(pod: Pod): number {
  return pod.spec?.priority ?? 0;
}

/** A pod plus its precomputed requests and affinity terms (upstream's framework.PodInfo). */
export class PodInfo {
  readonly pod: Pod;
  readonly key: string;
  readonly requests: Resource;
  readonly nonZeroRequests: Resource;
  readonly requiredAffinityTerms: readonly AffinityTerm[];
  readonly requiredAntiAffinityTerms: readonly AffinityTerm[];
  readonly preferredAffinityTerms: readonly WeightedAffinityTerm[];
  readonly preferredAntiAffinityTerms: readonly WeightedAffinityTerm[];
  /** Set when an affinity selector could not be parsed; plugins report it as an Error. */
  readonly parseError: string | undefined;

  /** Computes everything from the pod once. */
  constructor(pod: Pod) {
    this.pod = pod;
    this.key = podKey(pod);
    const r = computePodRequests(pod);
    this.requests = r.requests;
    this.nonZeroRequests = r.nonZero;
    const a = pod.spec?.affinity;
    let err: string | undefined;
    const parse = <T extends PodAffinityTerm>(terms: T[] | undefined): AffinityTerm[] => {
      if (terms === undefined || terms.length === 0) return EMPTY;
      const out: AffinityTerm[] = [];
      for (const t of terms) {
        try {
          out.push(newAffinityTerm(pod, t));
        } catch (e) {
          err ??= e instanceof Error ? e.message : String(e);
        }
      }
      return out;
    };
    const parseWeighted = (terms: WeightedPodAffinityTerm[] | undefined): WeightedAffinityTerm[] => {
      if (terms === undefined || terms.length === 0) return EMPTY_W;
      const out: WeightedAffinityTerm[] = [];
      for (const t of terms) {
        try {
          out.push({ ...newAffinityTerm(pod, t.podAffinityTerm), weight: t.weight });
        } catch (e) {
          err ??= e instanceof Error ? e.message : String(e);
        }
      }
      return out;
    };
    this.requiredAffinityTerms = parse(a?.podAffinity?.requiredDuringSchedulingIgnoredDuringExecution);
    this.requiredAntiAffinityTerms = parse(
      a?.podAntiAffinity?.requiredDuringSchedulingIgnoredDuringExecution,
    );
    this.preferredAffinityTerms = parseWeighted(
      a?.podAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    this.preferredAntiAffinityTerms = parseWeighted(
      a?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution,
    );
    this.parseError = err;
    infos.set(pod, this);
  }

  /** True when the pod has any pod (anti-)affinity term. */
  hasAffinity(): boolean {
    return (
      this.requiredAffinityTerms.length > 0 ||
      this.requiredAntiAffinityTerms.length > 0 ||
      this.preferredAffinityTerms.length > 0 ||
      this.preferredAntiAffinityTerms.length > 0
    );
  }

  /** True when the pod has required anti-affinity terms. */
  hasRequiredAntiAffinity(): boolean {
    return this.requiredAntiAffinityTerms.length > 0;
  }
}

const EMPTY: AffinityTerm[] = [];
const infos = new WeakMap<Pod, PodInfo>();

/** The PodInfo built for this pod object (the queue's), or a new one. */
export function podInfoOf(pod: Pod): PodInfo {
  return infos.get(pod) ?? new PodInfo(pod);
}
const EMPTY_W: WeightedAffinityTerm[] = [];

function newAffinityTerm(pod: Pod, t: PodAffinityTerm): AffinityTerm {
  const nsList = t.namespaces ?? [];
  const namespaces =
    nsList.length === 0 && t.namespaceSelector === undefined
      ? new Set([pod.metadata?.namespace ?? ''])
      : new Set(nsList);
  return {
    namespaces,
    selector: labelSelectorAsSelector(t.labelSelector),
    topologyKey: t.topologyKey,
    namespaceSelector: labelSelectorAsSelector(t.namespaceSelector),
  };
}
