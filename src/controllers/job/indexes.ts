// Completion indexes of Indexed Jobs (upstream indexed_job_utils.go): each pod carries its
// index in the `batch.kubernetes.io/job-completion-index` annotation and label, and
// status.completedIndexes holds the succeeded indexes as compressed intervals ("1,3-5").

/** Annotation and label with a pod's completion index. */
export const JOB_COMPLETION_INDEX = 'batch.kubernetes.io/job-completion-index';
/** The environment variable every container of an Indexed Job's pod gets. */
export const JOB_COMPLETION_INDEX_ENV = 'JOB_COMPLETION_INDEX';

/** The pod's completion index, or undefined when missing or invalid. */
export function podCompletionIndex(
  meta: { annotations?: Record<string, string>; labels?: Record<string, string> } | undefined,
  completions: number,
): number | undefined {
  const v = meta?.annotations?.[JOB_COMPLETION_INDEX] ?? meta?.labels?.[JOB_COMPLETION_INDEX];
  if (v === undefined || !/^(0|[1-9][0-9]*)$/.test(v)) return undefined;
  const n = Number(v);
  return n < completions ? n : undefined;
}

/** Parses "1,3-5" into a sorted set of indexes below `completions`. */
export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  if (s === undefined || s === '') return out;
  for (const part of s.split(',')) {
    const [a, b] = part.split('-');
    const lo = Number(a);
    const hi = b === undefined ? lo : Number(b);
    if (!Number.isInteger(lo) || !Number.isInteger(hi)) continue;
    for (let i = lo; i <= hi && i < completions; i++) out.add(i);
  }
  return out;
}

/** Formats indexes as compressed intervals ("1,3-5"). */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((x, y) => x - y);
  const parts: string[] = [];
  let i = 0;
  while (i < sorted.length) {
    const lo = sorted[i] as number;
    let hi = lo;
    while (i + 1 < sorted.length && sorted[i + 1] === hi + 1) hi = sorted[++i] as number;
    parts.push(lo === hi ? String(lo) : `${lo}-${hi}`);
    i++;
  }
  return parts.join(',');
}
