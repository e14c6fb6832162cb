// The one API error type of kts. Every layer (codecs, validation, storage translation,
// the API server, clients) raises and inspects StatusError; callers test the reason with
// the predicates below and never compare message strings. Messages follow upstream's
// k8s.io/apimachinery/pkg/api/errors wording so kubectl prints what users expect.

/** metav1.StatusCause */
export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** metav1.StatusDetails */
export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
  retryAfterSeconds?: number;
}

/** metav1.Status as served on the wire. */
export interface Status {
  kind: 'Status';
  apiVersion: 'v1';
  metadata: { resourceVersion?: string; continue?: string };
  status: 'Success' | 'Failure';
  message?: string;
  reason?: StatusReason;
  details?: StatusDetails;
  code: number;
}

/** metav1.StatusReason values used by kts (upstream names). */
export type StatusReason =
  | ''
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Invalid'
  | 'ServerTimeout'
  | 'StoreReadError'
  | 'Timeout'
  | 'TooManyRequests'
  | 'BadRequest'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError'
  | 'Expired'
  | 'ServiceUnavailable';

/** A field-level cause type (metav1.CauseType) as produced by field validation. */
export type CauseType =
  | 'FieldValueNotFound'
  | 'FieldValueRequired'
  | 'FieldValueDuplicate'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueForbidden'
  | 'FieldValueTooLong'
  | 'FieldValueTooMany'
  | 'InternalError'
  | 'FieldValueTypeInvalid'
  | 'UnexpectedServerResponse'
  | 'FieldManagerConflict'
  | 'ResourceVersionTooLarge';

/** Identifies the resource an error is about: `pods`, or `deployments.apps`. */
export interface GroupResource {
  group: string;
  resource: string;
}

// Upstream marks every StatusDetails field omitempty, so a core-group error carries no
// `group` at all; clients that compare the Status body (client libraries, tests) see `""`
// as a difference.
function omitEmptyDetails(d: StatusDetails): StatusDetails {
  return {
    ...(d.name ? { name: d.name } : {}),
    ...(d.group ? { group: d.group } : {}),
    ...(d.kind ? { kind: d.kind } : {}),
    ...(d.uid ? { uid: d.uid } : {}),
    ...(d.causes && d.causes.length > 0 ? { causes: d.causes } : {}),
    ...(d.retryAfterSeconds ? { retryAfterSeconds: d.retryAfterSeconds } : {}),
  };
}

/** A Kubernetes API error carrying the metav1.Status that is sent to clients. */
export class StatusError extends Error {
  readonly status: Status;

  constructor(
    status: Omit<Status, 'kind' | 'apiVersion' | 'metadata' | 'status'> & { metadata?: Status['metadata'] },
  ) {
    super(status.message ?? status.reason ?? 'unknown error');
    this.name = 'StatusError';
    this.status = {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: status.metadata ?? {},
      status: 'Failure',
      ...(status.message !== undefined ? { message: status.message } : {}),
      ...(status.reason !== undefined ? { reason: status.reason } : {}),
      ...(status.details !== undefined ? { details: omitEmptyDetails(status.details) } : {}),
      code: status.code,
    };
  }

  /** HTTP status code. */
  get code(): number {
    return this.status.code;
  }

  /** metav1.StatusReason. */
  get reason(): StatusReason {
    return this.status.reason ?? '';
  }
}

/** `pods` or `deployments.apps`, as upstream's GroupResource.String(). */
export function qualifiedResource(gr: GroupResource): string {
  return gr.group === '' ? gr.resource : `${gr.resource}.${gr.group}`;
}

/** 404 NotFound: `pods "x" not found`. */
export function notFound(gr: GroupResource, name: string): StatusError {
  return new StatusError({
    reason: 'NotFound',
    code: 404,
    message: `${qualifiedResource(gr)} "${name}" not found`,
    details: { name, group: gr.group, kind: gr.resource },
  });
}

/** 409 AlreadyExists: `pods "x" already exists`. */
export function alreadyExists(gr: GroupResource, name: string): StatusError {
  return new StatusError({
    reason: 'AlreadyExists',
    code: 409,
    message: `${qualifiedResource(gr)} "${name}" already exists`,
    details: { name, group: gr.group, kind: gr.resource },
  });
}

/** 409 Conflict: `Operation cannot be fulfilled on pods "x": <why>`. */
export function conflict(gr: GroupResource, name: string, why: string): StatusError {
  return new StatusError({
    reason: 'Conflict',
    code: 409,
    message: `Operation cannot be fulfilled on ${qualifiedResource(gr)} "${name}": ${why}`,
    details: { name, group: gr.group, kind: gr.resource },
  });
}

/** The optimistic-concurrency explanation upstream gives for a stale resourceVersion. */
export const OPTIMISTIC_LOCK_MESSAGE =
  'the object has been modified; please apply your changes to the latest version and try again';

/** One field validation error (upstream field.Error). */
export interface FieldError {
  type: CauseType;
  field: string;
  /** The offending value, rendered into the message where upstream does. */
  badValue?: unknown;
  /** The value already rendered as upstream prints it (e.g. an IntOrString `25%` bare); wins over badValue. */
  renderedValue?: string;
  detail?: string;
}

/** Renders a field error the way upstream's field.Error.Error() does. */
export function fieldErrorMessage(e: FieldError): string {
  const what = fieldErrorTypeText(e.type);
  let value = '';
  const valueless: CauseType[] = [
    'FieldValueRequired',
    'FieldValueForbidden',
    'FieldValueTooLong',
    'InternalError',
  ];
  if (e.renderedValue !== undefined && !valueless.includes(e.type)) value = e.renderedValue;
  else if ('badValue' in e && !valueless.includes(e.type)) value = renderBadValue(e.badValue);
  let s = `${e.field}: ${what}`;
  if (value !== '') s += `: ${value}`;
  if (e.detail !== undefined && e.detail !== '') s += `: ${e.detail}`;
  return s;
}

function fieldErrorTypeText(t: CauseType): string {
  switch (t) {
    case 'FieldValueNotFound':
      return 'Not found';
    case 'FieldValueRequired':
      return 'Required value';
    case 'FieldValueDuplicate':
      return 'Duplicate value';
    case 'FieldValueInvalid':
      return 'Invalid value';
    case 'FieldValueNotSupported':
      return 'Unsupported value';
    case 'FieldValueForbidden':
      return 'Forbidden';
    case 'FieldValueTooLong':
      return 'Too long';
    case 'FieldValueTooMany':
      return 'Too many';
    case 'InternalError':
      return 'Internal error';
    case 'FieldValueTypeInvalid':
      return 'Invalid value';
    default:
      return t;
  }
}

// upstream prints strings quoted (%q), numbers and booleans bare, and other values with
// %#v: a string map as `map[string]string{"k":"v"}` (keys sorted), a string slice as
// `[]string{"a"}`; JSON is the closest portable rendering for other composite values.
function renderBadValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  // Go's field.Error turns a nil bad value into the string "null", printed with %q.
  if (v === null || v === undefined) return '"null"';
  if (Array.isArray(v) && v.every((x) => typeof x === 'string'))
    return `[]string{${v.map((x) => JSON.stringify(x)).join(', ')}}`;
  if (typeof v === 'object' && !Array.isArray(v)) {
    const entries = Object.entries(v as Record<string, unknown>);
    if (entries.every(([, x]) => typeof x === 'string')) {
      entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
      return `map[string]string{${entries.map(([k, x]) => `${JSON.stringify(k)}:${JSON.stringify(x)}`).join(', ')}}`;
    }
  }
  return JSON.stringify(v);
}

/**
 * 422 Invalid: `Pod "x" is invalid: [a: Required value, b: Invalid value: ...]`; the kind is
 * qualified by its group as upstream does (`Deployment.apps "x" is invalid: …`).
 */
export function invalid(kind: string, group: string, name: string, errors: FieldError[]): StatusError {
  const causes: StatusCause[] = errors.map((e) => ({
    reason: e.type,
    message: fieldErrorMessage(e).slice(e.field.length + 2),
    field: e.field,
  }));
  const msgs = errors.map(fieldErrorMessage);
  const unique = [...new Set(msgs)];
  const joined = unique.length === 1 ? unique[0] : `[${unique.join(', ')}]`;
  return new StatusError({
    reason: 'Invalid',
    code: 422,
    message: `${group === '' ? kind : `${kind}.${group}`} "${name}" is invalid: ${joined}`,
    details: { name, group, kind, causes },
  });
}

/** 400 BadRequest with a free-form message. */
export function badRequest(message: string): StatusError {
  return new StatusError({ reason: 'BadRequest', code: 400, message });
}

/** 403 Forbidden: `pods "x" is forbidden: <why>` (name may be empty for collections). */
export function forbidden(gr: GroupResource, name: string, why: string): StatusError {
  const subject = name === '' ? qualifiedResource(gr) : `${qualifiedResource(gr)} "${name}"`;
  return new StatusError({
    reason: 'Forbidden',
    code: 403,
    message: `${subject} is forbidden: ${why}`,
    details: { ...(name !== '' ? { name } : {}), group: gr.group, kind: gr.resource },
  });
}

/** 401 Unauthorized. */
export function unauthorized(message = 'Unauthorized'): StatusError {
  return new StatusError({ reason: 'Unauthorized', code: 401, message });
}

/** 410 Gone (reason Gone). */
export function gone(message: string): StatusError {
  return new StatusError({ reason: 'Gone', code: 410, message });
}

/** 410 Expired: a watch or list asked for a resourceVersion that was compacted. */
export function resourceExpired(message: string): StatusError {
  return new StatusError({ reason: 'Expired', code: 410, message });
}

/** 405 MethodNotAllowed. */
export function methodNotSupported(gr: GroupResource, verb: string): StatusError {
  return new StatusError({
    reason: 'MethodNotAllowed',
    code: 405,
    message: `${verb} is not supported on resources of kind "${qualifiedResource(gr)}"`,
    details: { group: gr.group, kind: gr.resource },
  });
}

/** 406 NotAcceptable. */
export function notAcceptable(accepted: string[]): StatusError {
  return new StatusError({
    reason: 'NotAcceptable',
    code: 406,
    message: `only the following media types are accepted: ${accepted.join(', ')}`,
  });
}

/** 415 UnsupportedMediaType. */
export function unsupportedMediaType(contentType: string, accepted: string[]): StatusError {
  return new StatusError({
    reason: 'UnsupportedMediaType',
    code: 415,
    message: `the body of the request was in an unknown format - accepted media types include: ${accepted.join(', ')}`,
    details: { kind: contentType },
  });
}

/** 413 RequestEntityTooLarge. */
export function requestEntityTooLarge(message: string): StatusError {
  return new StatusError({
    reason: 'RequestEntityTooLarge',
    code: 413,
    message: `Request entity too large: ${message}`,
  });
}

/** 429 TooManyRequests. */
export function tooManyRequests(message: string, retryAfterSeconds: number): StatusError {
  return new StatusError({ reason: 'TooManyRequests', code: 429, message, details: { retryAfterSeconds } });
}

/** 500 InternalError: `Internal error occurred: <why>`. */
export function internalError(why: string): StatusError {
  return new StatusError({
    reason: 'InternalError',
    code: 500,
    message: `Internal error occurred: ${why}`,
    details: { causes: [{ message: why }] },
  });
}

/** 503 ServiceUnavailable. */
export function serviceUnavailable(message: string): StatusError {
  return new StatusError({ reason: 'ServiceUnavailable', code: 503, message });
}

/** 504 Timeout. */
export function timeout(message: string, retryAfterSeconds = 0): StatusError {
  return new StatusError({ reason: 'Timeout', code: 504, message, details: { retryAfterSeconds } });
}

/** True when err is a StatusError with this reason. */
function hasReason(err: unknown, reason: StatusReason): boolean {
  return err instanceof StatusError && err.reason === reason;
}

/** Predicates: test errors by reason, never by message. */
export const isNotFound = (err: unknown): boolean => hasReason(err, 'NotFound');
export const isAlreadyExists = (err: unknown): boolean => hasReason(err, 'AlreadyExists');
export const isConflict = (err: unknown): boolean => hasReason(err, 'Conflict');
export const isInvalid = (err: unknown): boolean => hasReason(err, 'Invalid');
export const isBadRequest = (err: unknown): boolean => hasReason(err, 'BadRequest');
export const isForbidden = (err: unknown): boolean => hasReason(err, 'Forbidden');
export const isUnauthorized = (err: unknown): boolean => hasReason(err, 'Unauthorized');
export const isGone = (err: unknown): boolean => hasReason(err, 'Gone') || hasReason(err, 'Expired');
export const isResourceExpired = (err: unknown): boolean => hasReason(err, 'Expired');
export const isTooManyRequests = (err: unknown): boolean => hasReason(err, 'TooManyRequests');
export const isInternalError = (err: unknown): boolean => hasReason(err, 'InternalError');
export const isMethodNotSupported = (err: unknown): boolean => hasReason(err, 'MethodNotAllowed');

/** Wraps any thrown value as a StatusError (a non-StatusError becomes a 500). */
export function toStatusError(err: unknown): StatusError {
  if (err instanceof StatusError) return err;
  const msg = err instanceof Error ? err.message : String(err);
  return internalError(msg);
}
