// A small flag parser for kts commands: `--name value`, `--name=value`, boolean `--flag`,
// repeated flags collected in order. Unknown flags are errors, as in the upstream binaries.

/** Declares a command's flags: the kind of each. */
export type FlagSpec = Record<string, 'string' | 'number' | 'boolean' | 'list'>;

/** Parsed flags and positional arguments. */
export interface ParsedFlags {
  values: Record<string, string | number | boolean | string[]>;
  positional: string[];
}

/** Thrown for bad command lines; the CLI prints it with usage. */
export class FlagError extends Error {}

/** Parses args against spec. */
export function parseFlags(args: string[], spec: FlagSpec): ParsedFlags {
  const values: ParsedFlags['values'] = {};
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--') {
      positional.push(...args.slice(i + 1));
      break;
    }
    if (!a.startsWith('--')) {
      positional.push(a);
      continue;
    }
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    const kind = spec[name];
    if (kind === undefined) throw new FlagError(`unknown flag: --${name}`);
    let raw: string | undefined = eq < 0 ? undefined : a.slice(eq + 1);
    if (kind === 'boolean') {
      values[name] = raw === undefined ? true : raw === 'true';
      continue;
    }
    if (raw === undefined) {
      raw = args[++i];
      if (raw === undefined) throw new FlagError(`flag needs an argument: --${name}`);
    }
    if (kind === 'number') {
      const n = Number(raw);
      if (!Number.isFinite(n)) throw new FlagError(`invalid value "${raw}" for --${name}: not a number`);
      values[name] = n;
    } else if (kind === 'list') {
      const prev = values[name];
      values[name] = [...(Array.isArray(prev) ? prev : []), ...raw.split(',').filter((x) => x !== '')];
    } else values[name] = raw;
  }
  return { values, positional };
}

/** A parsed flag's value if it is a string (an unset flag is undefined). */
export const flagString = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** A parsed list flag's values (none when unset). */
export const flagList = (v: unknown): string[] =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
