// Key ranges and list continue tokens, shared by every backend so paging behaves the same.
//
// Keys order by their UTF-8 bytes (etcd's order, and SQLite's BINARY collation). A prefix
// covers the half-open range [prefix, prefixEnd(prefix)).

import { compacted, futureRevision, StorageError, type Revision } from './storage.js';

/**
 * The smallest string greater than every string starting with `prefix` (in code point
 * order, which equals UTF-8 byte order), or undefined when there is none (empty prefix).
 */
export function prefixEnd(prefix: string): string | undefined {
  const cps = Array.from(prefix);
  while (cps.length > 0) {
    const last = cps.pop()!.codePointAt(0)!;
    if (last < 0x10ffff) {
      // Skip the surrogate block: those code points never appear in well-formed strings.
      const next = last + 1 === 0xd800 ? 0xe000 : last + 1;
      return cps.join('') + String.fromCodePoint(next);
    }
  }
  return undefined;
}

/** Where a continued list resumes: after `key`, at the snapshot `revision`. */
export interface ContinueState {
  key: string;
  revision: Revision;
  /** The prefix of the list the token belongs to, so a token cannot leak across lists. */
  prefix: string;
}

/** Encodes a continue token (opaque to callers: base64url JSON). */
export function encodeContinue(state: ContinueState): string {
  return Buffer.from(JSON.stringify({ k: state.key, r: state.revision, p: state.prefix })).toString(
    'base64url',
  );
}

/** Decodes a continue token for a list of `prefix`; `InvalidArgument` if malformed or foreign. */
export function decodeContinue(token: string, prefix: string): ContinueState {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new StorageError('InvalidArgument', 'continue token is not valid');
  }
  if (typeof parsed !== 'object' || parsed === null) {
    throw new StorageError('InvalidArgument', 'continue token is not valid');
  }
  const o = parsed as Record<string, unknown>;
  const { k, r, p } = o;
  if (typeof k !== 'string' || typeof r !== 'number' || !Number.isSafeInteger(r) || r < 0) {
    throw new StorageError('InvalidArgument', 'continue token is not valid');
  }
  if (p !== prefix || !k.startsWith(prefix)) {
    throw new StorageError('InvalidArgument', 'continue token does not belong to this list');
  }
  return { key: k, revision: r, prefix };
}

/** Validates a requested read revision against the store's compact and current revisions. */
export function checkReadRevision(requested: Revision, compactRev: Revision, current: Revision): void {
  if (!Number.isSafeInteger(requested) || requested < 0) {
    throw new StorageError('InvalidArgument', `invalid revision ${requested}`);
  }
  if (requested > current) throw futureRevision(requested, current);
  if (requested < compactRev) throw compacted(requested, compactRev);
}

/** Normalises a list limit: undefined for "no limit". */
export function normaliseLimit(limit: number | undefined): number | undefined {
  if (limit === undefined || limit === 0) return undefined;
  if (!Number.isSafeInteger(limit) || limit < 0) {
    throw new StorageError('InvalidArgument', `invalid limit ${limit}`);
  }
  return limit;
}

/** Rejects keys no backend can store (empty, or with a NUL that etcd range ends rely on). */
export function checkKey(key: string): void {
  if (typeof key !== 'string' || key.length === 0 || key.includes('\0')) {
    throw new StorageError('InvalidArgument', `invalid key ${JSON.stringify(key)}`);
  }
}
