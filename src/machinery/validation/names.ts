import type { FieldError } from '../status-error.js';

const QNAME_CHAR_FMT = '[A-Za-z0-9]';
const QNAME_EXT_CHAR_FMT = '[-A-Za-z0-9_.]';
const QUALIFIED_NAME_FMT = `(${QNAME_CHAR_FMT}${QNAME_EXT_CHAR_FMT}*)?${QNAME_CHAR_FMT}`;
const QUALIFIED_NAME_ERR_MSG =
  "must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
const QUALIFIED_NAME_MAX_LENGTH = 63;
const qualifiedNameRegexp = new RegExp(`^${QUALIFIED_NAME_FMT}$`);

const LABEL_VALUE_FMT = `(${QUALIFIED_NAME_FMT})?`;
const LABEL_VALUE_ERR_MSG =
  "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character";
/** Longest label value upstream accepts. */
export const LABEL_VALUE_MAX_LENGTH = 63;
const labelValueRegexp = new RegExp(`^${LABEL_VALUE_FMT}$`);

const DNS1123_LABEL_FMT = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const DNS1123_LABEL_ERR_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character";
/** Longest RFC 1123 label. */
export const DNS1123_LABEL_MAX_LENGTH = 63;
const dns1123LabelRegexp = new RegExp(`^${DNS1123_LABEL_FMT}$`);

const DNS1123_SUBDOMAIN_FMT = `${DNS1123_LABEL_FMT}(\\.${DNS1123_LABEL_FMT})*`;
const DNS1123_SUBDOMAIN_ERR_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
/** Longest RFC 1123 subdomain. */
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
const dns1123SubdomainRegexp = new RegExp(`^${DNS1123_SUBDOMAIN_FMT}$`);

const DNS1035_LABEL_FMT = '[a-z]([-a-z0-9]*[a-z0-9])?';
const DNS1035_LABEL_ERR_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character";
/** Longest RFC 1035 label. */
export const DNS1035_LABEL_MAX_LENGTH = 63;
const dns1035LabelRegexp = new RegExp(`^${DNS1035_LABEL_FMT}$`);

const WILDCARD_DNS1123_SUBDOMAIN_FMT = `\\*\\.${DNS1123_SUBDOMAIN_FMT}`;
const WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG =
  "a wildcard DNS-1123 subdomain must start with '*.', followed by a valid DNS subdomain, which must consist of lower case alphanumeric characters, '-' or '.' and end with an alphanumeric character";
const wildcardDNS1123SubdomainRegexp = new RegExp(`^${WILDCARD_DNS1123_SUBDOMAIN_FMT}$`);

const C_IDENTIFIER_FMT = '[A-Za-z_][A-Za-z0-9_]*';
const C_IDENTIFIER_ERR_MSG =
  "a valid C identifier must start with alphabetic character or '_', followed by a string of alphanumeric characters or '_'";
const cIdentifierRegexp = new RegExp(`^${C_IDENTIFIER_FMT}$`);

const PERCENT_FMT = '[0-9]+%';
const PERCENT_ERR_MSG = "a valid percent string must be a numeric string followed by an ending '%'";
const percentRegexp = new RegExp(`^${PERCENT_FMT}$`);

const HTTP_HEADER_NAME_FMT = '[-A-Za-z0-9]+';
const HTTP_HEADER_NAME_ERR_MSG = "a valid HTTP header must consist of alphanumeric characters or '-'";
const httpHeaderNameRegexp = new RegExp(`^${HTTP_HEADER_NAME_FMT}$`);

const ENV_VAR_NAME_FMT = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const ENV_VAR_NAME_ERR_MSG =
  "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit";
const RELAXED_ENV_VAR_NAME_ERR_MSG =
  "a valid environment variable name must consist only of printable ASCII characters other than '='";
const envVarNameRegexp = new RegExp(`^${ENV_VAR_NAME_FMT}$`);

const CONFIG_MAP_KEY_FMT = '[-._a-zA-Z0-9]+';
const CONFIG_MAP_KEY_ERR_MSG = "a valid config key must consist of alphanumeric characters, '-', '_' or '.'";
const configMapKeyRegexp = new RegExp(`^${CONFIG_MAP_KEY_FMT}$`);

/** Upstream's total size limit of an object's annotations (keys plus values), in bytes. */
export const TOTAL_ANNOTATION_SIZE_LIMIT_B = 256 * 1024;
/** Upstream's message for a negative count or size. */
export const IS_NEGATIVE_ERROR_MSG = 'must be greater than or equal to 0';
/** Upstream's message for a changed immutable field. */
export const FIELD_IMMUTABLE_ERROR_MSG = 'field is immutable';

/** `must be no more than N characters`. */
export function maxLenError(length: number): string {
  return `must be no more than ${length} characters`;
}

/** A regex failure message with examples, formatted as upstream's RegexError. */
export function regexError(msg: string, fmt: string, ...examples: string[]): string {
  if (examples.length === 0) return `${msg} (regex used for validation is '${fmt}')`;
  const eg = examples.map((e) => `'${e}', `).join(' or ');
  return `${msg} (e.g. ${eg}regex used for validation is '${fmt}')`;
}

/** `must be non-empty`. */
export function emptyError(): string {
  return 'must be non-empty';
}

/** `must be between lo and hi, inclusive`. */
export function inclusiveRangeError(lo: number, hi: number): string {
  return `must be between ${lo} and ${hi}, inclusive`;
}

// Upstream measures lengths in bytes (Go strings), which only differs from UTF-16 length
// for non-ASCII input; such input fails the character rules anyway, but the length message
// must still agree.
function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}

/** A label key or annotation key: an optional DNS-subdomain prefix and '/', then a name ≤ 63. */
export function isQualifiedName(value: string): string[] {
  const errs: string[] = [];
  const parts = value.split('/');
  let name: string;
  if (parts.length === 1) {
    name = parts[0] ?? '';
  } else if (parts.length === 2) {
    const prefix = parts[0] ?? '';
    name = parts[1] ?? '';
    if (prefix.length === 0) {
      errs.push(`prefix part ${emptyError()}`);
    } else {
      for (const msg of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${msg}`);
    }
  } else {
    errs.push(
      `a qualified name ${regexError(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}` +
        " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    );
    return errs;
  }
  if (name.length === 0) {
    errs.push(`name part ${emptyError()}`);
  } else if (byteLength(name) > QUALIFIED_NAME_MAX_LENGTH) {
    errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  }
  if (!qualifiedNameRegexp.test(name)) {
    errs.push(
      `name part ${regexError(QUALIFIED_NAME_ERR_MSG, QUALIFIED_NAME_FMT, 'MyName', 'my.name', '123-abc')}`,
    );
  }
  return errs;
}

/** A label value: empty, or ≤ 63 alphanumerics with '-', '_', '.' inside. */
export function isValidLabelValue(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRegexp.test(value)) {
    errs.push(regexError(LABEL_VALUE_ERR_MSG, LABEL_VALUE_FMT, 'MyValue', 'my_value', '12345'));
  }
  return errs;
}

/** An RFC 1123 label (namespace names, many object names). */
export function isDNS1123Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRegexp.test(value)) {
    if (dns1123SubdomainRegexp.test(value)) errs.push('must not contain dots');
    else errs.push(regexError(DNS1123_LABEL_ERR_MSG, DNS1123_LABEL_FMT, 'my-name', '123-abc'));
  }
  return errs;
}

/** An RFC 1123 subdomain (most object names). */
export function isDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRegexp.test(value)) {
    errs.push(regexError(DNS1123_SUBDOMAIN_ERR_MSG, DNS1123_SUBDOMAIN_FMT, 'example.com'));
  }
  return errs;
}

/** An RFC 1035 label (Service names: must start with a letter). */
export function isDNS1035Label(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1035_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1035_LABEL_MAX_LENGTH));
  if (!dns1035LabelRegexp.test(value)) {
    errs.push(regexError(DNS1035_LABEL_ERR_MSG, DNS1035_LABEL_FMT, 'my-name', 'abc-123'));
  }
  return errs;
}

/** `*.` followed by an RFC 1123 subdomain (Ingress hosts). */
export function isWildcardDNS1123Subdomain(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!wildcardDNS1123SubdomainRegexp.test(value)) {
    errs.push(
      regexError(WILDCARD_DNS1123_SUBDOMAIN_ERR_MSG, WILDCARD_DNS1123_SUBDOMAIN_FMT, '*.example.com'),
    );
  }
  return errs;
}

/** A C identifier. */
export function isCIdentifier(value: string): string[] {
  if (!cIdentifierRegexp.test(value)) {
    return [regexError(C_IDENTIFIER_ERR_MSG, C_IDENTIFIER_FMT, 'my_name', 'MY_NAME', 'MyName')];
  }
  return [];
}

/** A TCP/UDP port number, 1..65535. */
export function isValidPortNum(port: number): string[] {
  if (Number.isInteger(port) && port >= 1 && port <= 65535) return [];
  return [inclusiveRangeError(1, 65535)];
}

/** An integer within [min, max]. */
export function isInRange(value: number, min: number, max: number): string[] {
  if (value >= min && value <= max) return [];
  return [inclusiveRangeError(min, max)];
}

/** A Unix group id (0..2^31-1). */
export function isValidGroupID(gid: number): string[] {
  return isInRange(gid, 0, 2147483647);
}

/** A Unix user id (0..2^31-1). */
export function isValidUserID(uid: number): string[] {
  return isInRange(uid, 0, 2147483647);
}

/** An IANA_SVC_NAME (container port names). */
export function isValidPortName(port: string): string[] {
  const errs: string[] = [];
  if (byteLength(port) > 15) errs.push(maxLenError(15));
  if (!/^[-a-z0-9]+$/.test(port)) {
    errs.push('must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)');
  }
  if (!/[a-z]/.test(port)) errs.push('must contain at least one letter (a-z)');
  if (port.includes('--')) errs.push('must not contain consecutive hyphens');
  if (port.length > 0 && (port.startsWith('-') || port.endsWith('-'))) {
    errs.push('must not begin or end with a hyphen');
  }
  return errs;
}

// Go's ParseIPSloppy accepts IPv4 octets with leading zeros (read as decimal), which Node's
// net.isIP rejects, so addresses are parsed by hand into Go's 16-byte form.
function parseIPv4Sloppy(s: string): number[] | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^[0-9]{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

function parseIPv6(s: string): number[] | undefined {
  if (!s.includes(':')) return undefined;
  let body = s;
  let v4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  const tail = s.slice(lastColon + 1);
  if (tail.includes('.')) {
    const p = parseIPv4Sloppy(tail);
    if (p === undefined) return undefined;
    v4 = p;
    body = s.slice(0, lastColon + 1);
    if (!body.endsWith('::')) body = body.slice(0, -1);
  }
  const halves = body.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!/^[0-9A-Fa-f]{1,4}$/.test(g)) return undefined;
      const n = Number.parseInt(g, 16);
      out.push(n >> 8, n & 0xff);
    }
    return out;
  };
  const left = groups(halves[0] ?? '');
  if (left === undefined) return undefined;
  if (halves.length === 1) {
    const all = [...left, ...v4];
    return all.length === 16 ? all : undefined;
  }
  const right = groups(halves[1] ?? '');
  if (right === undefined) return undefined;
  const used = left.length + right.length + v4.length;
  if (used >= 16) return undefined;
  return [...left, ...new Array<number>(16 - used).fill(0), ...right, ...v4];
}

/** Parses an IP as Go's ParseIPSloppy does: 16 bytes (IPv4 as IPv4-mapped), or undefined. */
export function parseIP(s: string): number[] | undefined {
  const v4 = parseIPv4Sloppy(s);
  if (v4 !== undefined) return [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, ...v4];
  return parseIPv6(s);
}

function isV4Mapped(ip: number[]): boolean {
  return ip.slice(0, 10).every((b) => b === 0) && ip[10] === 0xff && ip[11] === 0xff;
}

/** True when s is an IPv4 (leading zeros tolerated, as upstream) or IPv6 address. */
export function parsesAsIP(s: string): boolean {
  return parseIP(s) !== undefined;
}

/** True when s is an IPv4 address (or IPv4-mapped IPv6, as Go's To4 allows). */
export function isIPv4String(s: string): boolean {
  const ip = parseIP(s);
  return ip !== undefined && isV4Mapped(ip);
}

/** An IP address, as a FieldError list at fldPath. */
export function isValidIP(fldPath: string, value: string): FieldError[] {
  if (parsesAsIP(value)) return [];
  return [
    {
      type: 'FieldValueInvalid',
      field: fldPath,
      badValue: value,
      detail: 'must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    },
  ];
}

/** An IPv4 address, as a FieldError list at fldPath. */
export function isValidIPv4Address(fldPath: string, value: string): FieldError[] {
  if (isIPv4String(value)) return [];
  return [
    { type: 'FieldValueInvalid', field: fldPath, badValue: value, detail: 'must be a valid IPv4 address' },
  ];
}

/** An IPv6 address, as a FieldError list at fldPath. */
export function isValidIPv6Address(fldPath: string, value: string): FieldError[] {
  if (parsesAsIP(value) && !isIPv4String(value)) return [];
  return [
    { type: 'FieldValueInvalid', field: fldPath, badValue: value, detail: 'must be a valid IPv6 address' },
  ];
}

/** True when s is `ip/prefix` with a prefix length that fits the address family. */
export function parsesAsCIDR(s: string): boolean {
  const slash = s.indexOf('/');
  if (slash < 0) return false;
  const ip = s.slice(0, slash);
  const bits = s.slice(slash + 1);
  if (!/^[0-9]{1,3}$/.test(bits)) return false;
  const n = Number(bits);
  if (parseIPv4Sloppy(ip) !== undefined) return n <= 32;
  return parseIPv6(ip) !== undefined && n <= 128;
}

/** A CIDR, as a FieldError list at fldPath. */
export function isValidCIDR(fldPath: string, value: string): FieldError[] {
  if (parsesAsCIDR(value)) return [];
  return [
    {
      type: 'FieldValueInvalid',
      field: fldPath,
      badValue: value,
      detail: 'must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)',
    },
  ];
}

/** A percent string such as `25%`. */
export function isValidPercent(percent: string): string[] {
  if (!percentRegexp.test(percent)) return [regexError(PERCENT_ERR_MSG, PERCENT_FMT, '1%', '93%')];
  return [];
}

/** An HTTP header name. */
export function isHTTPHeaderName(value: string): string[] {
  if (!httpHeaderNameRegexp.test(value)) {
    return [regexError(HTTP_HEADER_NAME_ERR_MSG, HTTP_HEADER_NAME_FMT, 'X-Header-Name')];
  }
  return [];
}

function hasChDirPrefix(value: string): string[] {
  if (value === '.') return ["must not be '.'"];
  if (value === '..') return ["must not be '..'"];
  if (value.startsWith('..')) return ["must not start with '..'"];
  return [];
}

/** A container environment variable name (strict form). */
export function isEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRegexp.test(value)) {
    errs.push(regexError(ENV_VAR_NAME_ERR_MSG, ENV_VAR_NAME_FMT, 'my.env-name', 'MY_ENV.NAME', 'MyEnvName1'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** A container environment variable name (RelaxedEnvironmentVariableValidation form). */
export function isRelaxedEnvVarName(value: string): string[] {
  const errs: string[] = [];
  if (value.length === 0) errs.push(`environment variable name ${emptyError()}`);
  for (const ch of value) {
    const c = ch.codePointAt(0) ?? 0;
    if (c > 0x7e || c < 0x20 || ch === '=') {
      errs.push(RELAXED_ENV_VAR_NAME_ERR_MSG);
      break;
    }
  }
  return errs;
}

/** A ConfigMap or Secret data key. */
export function isConfigMapKey(value: string): string[] {
  const errs: string[] = [];
  if (byteLength(value) > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRegexp.test(value)) {
    errs.push(regexError(CONFIG_MAP_KEY_ERR_MSG, CONFIG_MAP_KEY_FMT, 'key.name', 'KEY_NAME', 'key-name'));
  }
  errs.push(...hasChDirPrefix(value));
  return errs;
}

/** A name used as one URL path segment: never `.`/`..`, never containing `/` or `%`. */
export function isValidPathSegmentName(name: string): string[] {
  for (const illegal of ['.', '..']) {
    if (name === illegal) return [`may not be '${illegal}'`];
  }
  return isValidPathSegmentPrefix(name);
}

/** The part of a path-segment name that a generateName prefix must satisfy. */
export function isValidPathSegmentPrefix(name: string): string[] {
  const errs: string[] = [];
  for (const illegal of ['/', '%']) {
    if (name.includes(illegal)) errs.push(`may not contain '${illegal}'`);
  }
  return errs;
}

/**
 * Validates a name or, when prefix is true, a generateName prefix (upstream's
 * ValidateNameFunc); returns the upstream messages.
 */
export type ValidateNameFunc = (name: string, prefix: boolean) => string[];

// A generateName prefix may end in '-' because random characters follow it.
function maskTrailingDash(name: string): string {
  if (name.length > 1 && name.endsWith('-')) return `${name.slice(0, -2)}a`;
  return name;
}

/** Names that must be RFC 1123 subdomains (most kinds). */
export const nameIsDNSSubdomain: ValidateNameFunc = (name, prefix) =>
  isDNS1123Subdomain(prefix ? maskTrailingDash(name) : name);

/** Names that must be RFC 1123 labels (Namespace, …). */
export const nameIsDNSLabel: ValidateNameFunc = (name, prefix) =>
  isDNS1123Label(prefix ? maskTrailingDash(name) : name);

/** Names that must be RFC 1035 labels (Service). */
export const nameIsDNS1035Label: ValidateNameFunc = (name, prefix) =>
  isDNS1035Label(prefix ? maskTrailingDash(name) : name);

/** Names that only need to be safe as a path segment (RBAC roles, …). */
export const validatePathSegmentName: ValidateNameFunc = (name, prefix) =>
  prefix ? isValidPathSegmentPrefix(name) : isValidPathSegmentName(name);

/** Namespace names (upstream's ValidateNamespaceName). */
export const validateNamespaceName: ValidateNameFunc = nameIsDNSLabel;

/** ServiceAccount names (upstream's ValidateServiceAccountName). */
export const validateServiceAccountName: ValidateNameFunc = nameIsDNSSubdomain;

/** `must be greater than or equal to 0` for a negative value. */
export function validateNonnegativeField(value: number, fldPath: string): FieldError[] {
  if (value < 0)
    return [{ type: 'FieldValueInvalid', field: fldPath, badValue: value, detail: IS_NEGATIVE_ERROR_MSG }];
  return [];
}

/** Label keys and values at fldPath (upstream's v1validation.ValidateLabels). */
export function validateLabels(
  labels: Record<string, string> | undefined | null,
  fldPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (labels === undefined || labels === null) return errs;
  for (const [k, v] of Object.entries(labels)) {
    errs.push(...validateLabelName(k, fldPath));
    for (const msg of isValidLabelValue(v)) {
      errs.push({ type: 'FieldValueInvalid', field: fldPath, badValue: v, detail: msg });
    }
  }
  return errs;
}

/** One label key at fldPath. */
export function validateLabelName(labelName: string, fldPath: string): FieldError[] {
  return isQualifiedName(labelName).map((msg) => ({
    type: 'FieldValueInvalid' as const,
    field: fldPath,
    badValue: labelName,
    detail: msg,
  }));
}

/** Annotation keys (case-insensitive qualified names) and the 256 KiB total size limit. */
export function validateAnnotations(
  annotations: Record<string, string> | undefined | null,
  fldPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (annotations === undefined || annotations === null) return errs;
  let total = 0;
  for (const [k, v] of Object.entries(annotations)) {
    for (const msg of isQualifiedName(k.toLowerCase())) {
      errs.push({ type: 'FieldValueInvalid', field: fldPath, badValue: k, detail: msg });
    }
    total += byteLength(k) + byteLength(v);
  }
  if (total > TOTAL_ANNOTATION_SIZE_LIMIT_B) {
    errs.push({
      type: 'FieldValueTooLong',
      field: fldPath,
      badValue: '<value omitted>',
      detail: `may not be more than ${TOTAL_ANNOTATION_SIZE_LIMIT_B} bytes`,
    });
  }
  return errs;
}

/** One finalizer name (a qualified name). */
export function validateFinalizerName(value: string, fldPath: string): FieldError[] {
  return isQualifiedName(value).map((msg) => ({
    type: 'FieldValueInvalid' as const,
    field: fldPath,
    badValue: value,
    detail: msg,
  }));
}

/** The finalizers list: each a qualified name, and never both orphan and foreground deletion. */
export function validateFinalizers(
  finalizers: readonly string[] | undefined | null,
  fldPath: string,
): FieldError[] {
  const errs: FieldError[] = [];
  if (finalizers === undefined || finalizers === null) return errs;
  for (const f of finalizers) errs.push(...validateFinalizerName(f, fldPath));
  if (finalizers.includes('orphan') && finalizers.includes('foregroundDeletion')) {
    errs.push({
      type: 'FieldValueInvalid',
      field: fldPath,
      badValue: [...finalizers],
      detail: 'finalizer orphan and foregroundDeletion cannot be both set',
    });
  }
  return errs;
}

/** No finalizer may be added once deletion has started. */
export function validateNoNewFinalizers(
  newFinalizers: readonly string[] | undefined,
  oldFinalizers: readonly string[] | undefined,
  fldPath: string,
): FieldError[] {
  const old = new Set(oldFinalizers ?? []);
  const extra = [...new Set((newFinalizers ?? []).filter((f) => !old.has(f)))].sort();
  if (extra.length === 0) return [];
  const list = `[]string{${extra.map((e) => JSON.stringify(e)).join(', ')}}`;
  return [
    {
      type: 'FieldValueForbidden',
      field: fldPath,
      detail: `no new finalizers can be added if the object is being deleted, found new finalizers ${list}`,
    },
  ];
}
