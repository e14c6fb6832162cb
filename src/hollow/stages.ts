// The pod lifecycle of a hollow node as data (kwok's "stages"): each stage says which pods
// it applies to (a selector over fields of the pod), how long to wait once a pod matches
// (a fixed delay, a configurable one, or the pod's own grace period under a cap) and what
// happens next (a status template is written, or the pod is deleted). The engine
// (hollow-nodes.ts) only evaluates stages; changing how hollow pods behave means changing
// this table, not the engine. The first matching stage wins, so order is priority.
import type { Pod } from '../api/generated/types/core-v1.js';

/** A condition on one field of an object, addressed by a dotted path (`.status.phase`). */
export interface StageExpression {
  /**
   * Dotted path from the object root. A path through a list (`.metadata.ownerReferences.kind`)
   * yields the field of every element, so `In` matches when any element matches.
   */
  key: string;
  /** `In`/`NotIn` compare string values; `Exists`/`DoesNotExist` test presence. */
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values?: string[];
}

/** Which objects a stage applies to: every expression must hold. */
export interface StageSelector {
  matchExpressions: StageExpression[];
}

/** How long a stage waits once an object matches it. */
export interface StageDelay {
  /** A fixed delay in milliseconds. */
  durationMs?: number;
  /** Take the delay from an engine option instead (e.g. `jobCompletionDelayMs`). */
  fromOption?: keyof StageDelayOptions;
  /**
   * Wait the pod's own deletion grace period (`metadata.deletionGracePeriodSeconds`), capped
   * by the delay from `durationMs`/`fromOption`.
   */
  capByGracePeriod?: boolean;
}

/** The status templates the engine knows how to render (see templates.ts). */
export type StatusTemplate = 'running' | 'succeeded';

/** What a stage does once its delay has passed. */
export interface StageNext {
  /** Write this status through the status subresource. */
  statusTemplate?: StatusTemplate;
  /** Delete the object at once (`gracePeriodSeconds: 0`), as a kubelet does when its pod stopped. */
  delete?: boolean;
}

/** One step of the simulated lifecycle. */
export interface Stage {
  /** Stable name (for logs and for remembering what was applied to an object). */
  name: string;
  selector: StageSelector;
  delay?: StageDelay;
  next: StageNext;
}

/** Engine options a stage delay can refer to. */
export interface StageDelayOptions {
  /** How long a Job's pod runs before it succeeds. */
  jobCompletionDelayMs: number;
  /** The cap on a deleted pod's grace period. */
  deletionDelayMs: number;
}

/**
 * The default pod stages: delete terminating pods (within their grace, under a cap); start
 * pending pods; complete run-to-completion pods (owned by a Job, or restartPolicy Never or
 * OnFailure) after a delay. Finished pods and running long-lived pods match nothing.
 */
export const DEFAULT_POD_STAGES: readonly Stage[] = [
  {
    name: 'pod-delete',
    selector: { matchExpressions: [{ key: '.metadata.deletionTimestamp', operator: 'Exists' }] },
    delay: { fromOption: 'deletionDelayMs', capByGracePeriod: true },
    next: { delete: true },
  },
  {
    name: 'pod-ready',
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'NotIn', values: ['Running', 'Succeeded', 'Failed'] },
      ],
    },
    next: { statusTemplate: 'running' },
  },
  {
    name: 'pod-complete-job',
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'In', values: ['Running'] },
        { key: '.metadata.ownerReferences.kind', operator: 'In', values: ['Job'] },
      ],
    },
    delay: { fromOption: 'jobCompletionDelayMs' },
    next: { statusTemplate: 'succeeded' },
  },
  {
    name: 'pod-complete',
    selector: {
      matchExpressions: [
        { key: '.metadata.deletionTimestamp', operator: 'DoesNotExist' },
        { key: '.status.phase', operator: 'In', values: ['Running'] },
        { key: '.spec.restartPolicy', operator: 'In', values: ['Never', 'OnFailure'] },
      ],
    },
    delay: { fromOption: 'jobCompletionDelayMs' },
    next: { statusTemplate: 'succeeded' },
  },
];

// Paths are parsed once per distinct string: stages are evaluated for every pod event.
const parsedPaths = new Map<string, string[]>();

function pathSegments(key: string): string[] {
  let segs = parsedPaths.get(key);
  if (segs === undefined) {
    segs = key.split('.').filter((s) => s !== '' && s !== '[]');
    parsedPaths.set(key, segs);
  }
  return segs;
}

/** The values at a dotted path; lists fan out, absent and null fields yield nothing. */
export function valuesAt(obj: unknown, key: string): unknown[] {
  let current: unknown[] = [obj];
  for (const seg of pathSegments(key)) {
    const next: unknown[] = [];
    for (const v of current) {
      if (Array.isArray(v)) {
        for (const el of v) pushField(next, el, seg);
      } else pushField(next, v, seg);
    }
    current = next;
    if (current.length === 0) return current;
  }
  return current.flatMap((v) => (Array.isArray(v) ? v : [v]));
}

function pushField(out: unknown[], v: unknown, seg: string): void {
  if (typeof v !== 'object' || v === null) return;
  const f = (v as Record<string, unknown>)[seg];
  if (f !== undefined && f !== null) out.push(f);
}

function scalarText(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** True when obj satisfies one expression. */
export function expressionMatches(obj: unknown, e: StageExpression): boolean {
  const vals = valuesAt(obj, e.key);
  switch (e.operator) {
    case 'Exists':
      return vals.length > 0;
    case 'DoesNotExist':
      return vals.length === 0;
    case 'In':
      return vals.some((v) => {
        const s = scalarText(v);
        return s !== undefined && (e.values ?? []).includes(s);
      });
    case 'NotIn':
      return !vals.some((v) => {
        const s = scalarText(v);
        return s !== undefined && (e.values ?? []).includes(s);
      });
  }
}

/** True when obj satisfies every expression of the selector. */
export function selectorMatches(obj: unknown, sel: StageSelector): boolean {
  return sel.matchExpressions.every((e) => expressionMatches(obj, e));
}

/** The first stage whose selector matches obj, if any. */
export function matchStage(obj: unknown, stages: readonly Stage[]): Stage | undefined {
  return stages.find((s) => selectorMatches(obj, s.selector));
}

/** How long (ms) to wait before applying `stage` to pod, given the engine's options. */
export function stageDelayMs(stage: Stage, pod: Pod, opts: StageDelayOptions): number {
  const d = stage.delay;
  if (d === undefined) return 0;
  let ms = d.durationMs ?? 0;
  if (d.fromOption !== undefined) ms = opts[d.fromOption];
  if (d.capByGracePeriod === true) {
    const grace = pod.metadata?.deletionGracePeriodSeconds;
    if (typeof grace === 'number' && grace >= 0) ms = Math.min(ms, grace * 1000);
  }
  return Math.max(0, ms);
}

/** Checks a stage table for mistakes a typo would cause (unknown operators, empty actions). */
export function validateStages(stages: readonly Stage[]): string[] {
  const errs: string[] = [];
  const names = new Set<string>();
  for (const s of stages) {
    if (names.has(s.name)) errs.push(`stage ${s.name}: duplicate name`);
    names.add(s.name);
    if (s.next.statusTemplate === undefined && s.next.delete !== true) {
      errs.push(`stage ${s.name}: next must set statusTemplate or delete`);
    }
    for (const e of s.selector.matchExpressions) {
      if (!e.key.startsWith('.')) errs.push(`stage ${s.name}: key ${e.key} must start with "."`);
      const needsValues = e.operator === 'In' || e.operator === 'NotIn';
      if (needsValues && (e.values === undefined || e.values.length === 0)) {
        errs.push(`stage ${s.name}: ${e.operator} on ${e.key} needs values`);
      }
    }
  }
  return errs;
}
