// Static bearer tokens from `--token-auth-file` (upstream's tokenfile authenticator): a CSV
// file with at least three columns, `token,user,uid`, and an optional fourth holding the
// groups as one comma-separated field (quoted: `"group1,group2"`). The file is read once at
// start, as upstream does; blank tokens are skipped and a repeated token keeps its last line.
import { readFileSync } from 'node:fs';
import type { UserInfo } from '../endpoints/scope.js';

/** Splits one CSV record (RFC 4180 quoting, leading spaces of fields trimmed as Go's reader does). */
export function parseCSVLine(line: string): string[] {
  const out: string[] = [];
  let i = 0;
  for (;;) {
    while (line[i] === ' ' || line[i] === '\t') i++;
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) throw new Error('extraneous or missing " in quoted-field');
        const c = line[i]!;
        if (c === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += c;
        i++;
      }
      if (i < line.length && line[i] !== ',') throw new Error('extraneous or missing " in quoted-field');
    } else {
      const end = line.indexOf(',', i);
      field = end < 0 ? line.slice(i) : line.slice(i, end);
      i = end < 0 ? line.length : end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // the comma
  }
}

/** Parses the contents of a token file; throws with upstream's messages on bad records. */
export function parseTokenFile(text: string, path = 'token file'): Map<string, UserInfo> {
  const tokens = new Map<string, UserInfo>();
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  lines.forEach((raw, idx) => {
    if (raw.trim() === '') return;
    let record: string[];
    try {
      record = parseCSVLine(raw);
    } catch (e) {
      throw new Error(`parse error on line ${idx + 1}: ${(e as Error).message}`);
    }
    if (record.length < 3)
      throw new Error(
        `token file '${path}' must have at least 3 columns (token, user name, user uid), found ${record.length}`,
      );
    const token = record[0]!.trim();
    if (token === '') return;
    const user: UserInfo = { username: record[1]!, uid: record[2]!, groups: [] };
    const groupField = record[3];
    if (groupField !== undefined && groupField.trim() !== '') {
      user.groups = groupField
        .split(',')
        .map((g) => g.trim())
        .filter((g) => g !== '');
    }
    tokens.set(token, user);
  });
  return tokens;
}

/** Authenticates the tokens of one token file. */
export class TokenFileAuthenticator {
  private constructor(private readonly tokens: Map<string, UserInfo>) {}

  /** Reads and parses `path`. */
  static fromFile(path: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(parseTokenFile(readFileSync(path, 'utf8'), path));
  }

  /** Builds from file contents (tests). */
  static fromText(text: string): TokenFileAuthenticator {
    return new TokenFileAuthenticator(parseTokenFile(text));
  }

  /** The user of `token`, or undefined when the file does not list it. */
  authenticateToken(token: string, _now: Date): UserInfo | undefined {
    const u = this.tokens.get(token);
    return u === undefined ? undefined : { ...u, groups: [...u.groups] };
  }

  /** Number of tokens loaded. */
  size(): number {
    return this.tokens.size;
  }
}
