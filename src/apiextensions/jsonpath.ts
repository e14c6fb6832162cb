// The small JSONPath subset CRDs use in additionalPrinterColumns, selectableFields and the
// scale subresource's paths (client-go's jsonpath, as `{<path>}`): `.a.b`, `['a']`, `[0]`,
// `[-1]`, `[*]`, `..` is not supported, and filters `[?(@.k=="v")]` / `[?(@.k)]`.

/** One step of a parsed path. */
type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: Step[]; op: '==' | '!=' | 'exists'; value: unknown };

/** A parsed JSONPath; `undefined` from `parseJSONPath` when the syntax is not supported. */
export interface JSONPath {
  readonly steps: readonly Step[];
}

function parseSteps(src: string): Step[] | undefined {
  const steps: Step[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i];
    if (c === '.') {
      i++;
      let j = i;
      while (j < src.length && src[j] !== '.' && src[j] !== '[') j++;
      const name = src.slice(i, j);
      if (name === '') return undefined;
      steps.push(name === '*' ? { kind: 'all' } : { kind: 'field', name });
      i = j;
    } else if (c === '[') {
      const close = matchingBracket(src, i);
      if (close < 0) return undefined;
      const inner = src.slice(i + 1, close).trim();
      i = close + 1;
      if (inner === '*') steps.push({ kind: 'all' });
      else if (/^-?\d+$/.test(inner)) steps.push({ kind: 'index', index: Number(inner) });
      else if (/^'.*'$/.test(inner) || /^".*"$/.test(inner))
        steps.push({ kind: 'field', name: inner.slice(1, -1) });
      else if (inner.startsWith('?(') && inner.endsWith(')')) {
        const f = parseFilter(inner.slice(2, -1).trim());
        if (!f) return undefined;
        steps.push(f);
      } else return undefined;
    } else return undefined;
  }
  return steps;
}

function matchingBracket(src: string, open: number): number {
  let depth = 0;
  let quote = '';
  for (let i = open; i < src.length; i++) {
    const c = src[i]!;
    if (quote !== '') {
      if (c === quote) quote = '';
    } else if (c === "'" || c === '"') quote = c;
    else if (c === '[') depth++;
    else if (c === ']' && --depth === 0) return i;
  }
  return -1;
}

function parseFilter(expr: string): Step | undefined {
  const m = /^@((?:\.[^.=!\s]+)+)\s*(==|!=)\s*(.+)$/.exec(expr);
  if (m) {
    const path = parseSteps(m[1]!);
    if (!path) return undefined;
    const raw = m[3]!.trim();
    let value: unknown;
    if (/^'.*'$/.test(raw) || /^".*"$/.test(raw)) value = raw.slice(1, -1);
    else if (raw === 'true' || raw === 'false') value = raw === 'true';
    else if (Number.isFinite(Number(raw))) value = Number(raw);
    else return undefined;
    return { kind: 'filter', path, op: m[2] as '==' | '!=', value };
  }
  const e = /^@((?:\.[^.=!\s]+)+)$/.exec(expr);
  if (e) {
    const path = parseSteps(e[1]!);
    return path ? { kind: 'filter', path, op: 'exists', value: undefined } : undefined;
  }
  return undefined;
}

/** Parses `.spec.replicas` (optionally wrapped in `{…}`); undefined when not supported. */
export function parseJSONPath(src: string): JSONPath | undefined {
  let s = src.trim();
  if (s.startsWith('{') && s.endsWith('}')) s = s.slice(1, -1).trim();
  if (s.startsWith('$')) s = s.slice(1);
  if (s === '') return { steps: [] };
  if (!s.startsWith('.') && !s.startsWith('[')) s = `.${s}`;
  const steps = parseSteps(s);
  return steps ? { steps } : undefined;
}

function walk(values: unknown[], steps: readonly Step[]): unknown[] {
  let cur = values;
  for (const st of steps) {
    const next: unknown[] = [];
    for (const v of cur) {
      if (st.kind === 'field') {
        if (typeof v === 'object' && v !== null && !Array.isArray(v) && Object.hasOwn(v, st.name)) {
          next.push((v as Record<string, unknown>)[st.name]);
        }
      } else if (st.kind === 'index') {
        if (Array.isArray(v)) {
          const i = st.index < 0 ? v.length + st.index : st.index;
          if (i >= 0 && i < v.length) next.push(v[i]);
        }
      } else if (st.kind === 'all') {
        if (Array.isArray(v)) next.push(...v);
        else if (typeof v === 'object' && v !== null) next.push(...Object.values(v));
      } else if (Array.isArray(v)) {
        for (const el of v) {
          const found = walk([el], st.path);
          if (
            st.op === 'exists'
              ? found.length > 0
              : (found.length > 0 && found[0] === st.value) === (st.op === '==')
          )
            next.push(el);
        }
      }
    }
    cur = next;
  }
  return cur;
}

/** Every value the path selects in `obj` (empty when nothing matches). */
export function findResults(path: JSONPath, obj: unknown): unknown[] {
  return walk([obj], path.steps).filter((v) => v !== undefined);
}

/** Renders a selected value as `kubectl`'s jsonpath printer does for one result. */
export function printResult(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null) return '<nil>';
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}
