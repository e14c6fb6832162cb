// The `fieldPath` of a validation rule: a JSON path of field selections (`.spec.x`) and
// quoted keys (`['a.b']`) relative to the rule's schema node, checked against the schema
// as upstream's ValidFieldPath does, and rendered as the field.Path string an error is
// reported under (`spec.x`, `spec[a.b]`).
import type { Schema } from './types.js';

/** A valid path's rendering (relative, no leading dot), or the reason it is invalid. */
export type FieldPathResult = { ok: true; path: string } | { ok: false; error: string };

function unescapeSingleQuote(s: string): string | undefined {
  let bad = false;
  const out = s.replace(/\\./g, (m) => {
    const map: Record<string, string> = {
      a: '\u0007',
      b: '\b',
      f: '\f',
      n: '\n',
      r: '\r',
      t: '\t',
      v: '\u000b',
      "'": "'",
      '\\': '\\',
    };
    const r = map[m[1]!];
    if (r === undefined) bad = true;
    return r ?? '';
  });
  return bad ? undefined : out;
}

function tokens(p: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < p.length) {
    const c = p[i]!;
    if (c === '.' || c === '[' || c === ']') {
      out.push(c);
      i++;
      continue;
    }
    if (c === "'") {
      let j = i + 1;
      while (j < p.length && !(p[j] === "'" && p[j - 1] !== '\\')) j++;
      out.push(p.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < p.length && !'.[]'.includes(p[j]!)) j++;
    out.push(p.slice(i, j));
    i = j;
  }
  return out;
}

/** Upstream's ValidFieldPath. */
export function validFieldPath(jsonPath: string, schema: Schema): FieldPathResult {
  let s: Schema | undefined = schema;
  let path = '';
  const toks = tokens(jsonPath);
  const step = (name: string, named: boolean): string | undefined => {
    if (!named) {
      path += `[${name}]`;
      const ap: Schema['additionalProperties'] = s?.additionalProperties;
      s = typeof ap === 'object' ? ap : undefined;
      return undefined;
    }
    path += path === '' ? name : `.${name}`;
    const p: Schema | undefined = s?.properties?.[name];
    if (p === undefined) return 'does not refer to a valid field';
    s = p;
    return undefined;
  };
  const kind = (): boolean | undefined =>
    s?.properties !== undefined ? true : s?.additionalProperties !== undefined ? false : undefined;
  for (let i = 0; i < toks.length; i++) {
    const t = toks[i]!;
    if (t === '[') {
      const q = toks[++i];
      if (q === undefined) return { ok: false, error: 'unexpected end of JSON path' };
      if (q.length < 2 || !q.startsWith("'") || !q.endsWith("'")) {
        return { ok: false, error: `expected single quoted string but got ${q}` };
      }
      const name = unescapeSingleQuote(q.slice(1, -1));
      if (name === undefined) return { ok: false, error: 'invalid string literal' };
      const named = kind();
      if (named === undefined) return { ok: false, error: 'does not refer to a valid field' };
      const err = step(name, named);
      if (err !== undefined) return { ok: false, error: err };
      if (toks[++i] !== ']') return { ok: false, error: `expected ] but got ${toks[i] ?? ''}` };
    } else if (t === '.') {
      const name = toks[++i];
      if (name === undefined) return { ok: false, error: 'unexpected end of JSON path' };
      const named = kind();
      if (named === undefined) return { ok: false, error: 'does not refer to a valid field' };
      const err = step(name, named);
      if (err !== undefined) return { ok: false, error: err };
    } else {
      return { ok: false, error: `expected [ or . but got: ${t}` };
    }
  }
  return { ok: true, path };
}
