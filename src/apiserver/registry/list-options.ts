// Parsing and checking of list/watch query parameters with upstream's rules and messages.
import type { FieldSelector } from '../../machinery/fields/field-selector.js';
import { FieldSelectorParseError, parseFieldSelector } from '../../machinery/fields/field-selector.js';
import type { Selector } from '../../machinery/labels/selector.js';
import { parseSelector, SelectorParseError } from '../../machinery/labels/selector.js';
import { badRequest, type FieldError, invalid } from '../../machinery/status-error.js';

/** Parsed list/watch options. */
export interface ListQuery {
  labelSelector: Selector;
  fieldSelector: FieldSelector;
  /** 0 means no limit. */
  limit: number;
  continue: string;
  /** '' (most recent), '0' (any), or a revision. */
  resourceVersion: string;
  resourceVersionMatch: '' | 'NotOlderThan' | 'Exact';
  watch: boolean;
  allowWatchBookmarks: boolean;
  sendInitialEvents: boolean | undefined;
  timeoutSeconds: number | undefined;
}

/** Parses a revision string; throws 400 on garbage. */
export function parseRV(rv: string): number {
  if (!/^\d+$/.test(rv)) throw badRequest(`invalid resource version: ${JSON.stringify(rv)}`);
  return Number(rv);
}

/**
 * A boolean query parameter as upstream's parameter codec reads it: absent, `0` and `false`
 * (any case) are false, anything else — `True` from the Python client, or empty — is true.
 */
export function queryBool(v: string | null): boolean {
  return v !== null && v !== '0' && v.toLowerCase() !== 'false';
}

const INT64_MAX = 9223372036854775807n;
const INT64_MIN = -9223372036854775808n;

/**
 * Parses an int64 query parameter as upstream's conversion (strconv.ParseInt) does: garbage
 * or overflow is a 400 with Go's message. Values past 2^53 are clamped: no list or timeout
 * can tell them apart.
 */
export function parseInt64Param(v: string): number {
  if (!/^[+-]?\d+$/.test(v))
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
  const n = BigInt(v);
  if (n > INT64_MAX || n < INT64_MIN)
    throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: value out of range`);
  if (n > BigInt(Number.MAX_SAFE_INTEGER)) return Number.MAX_SAFE_INTEGER;
  if (n < BigInt(Number.MIN_SAFE_INTEGER)) return Number.MIN_SAFE_INTEGER;
  return Number(n);
}

/** Parses list/watch query parameters (for ListOptions errors upstream answers 422 ListOptions). */
export function parseListQuery(q: URLSearchParams, watchVerb: boolean): ListQuery {
  let labelSelector: Selector;
  try {
    labelSelector = parseSelector(q.get('labelSelector') ?? '');
  } catch (e) {
    if (e instanceof SelectorParseError)
      throw badRequest(
        `unable to parse requirement: ${e.message}`.replace(
          'unable to parse requirement: unable to parse requirement: ',
          'unable to parse requirement: ',
        ),
      );
    throw e;
  }
  let fieldSelector: FieldSelector;
  try {
    fieldSelector = parseFieldSelector(q.get('fieldSelector') ?? '');
  } catch (e) {
    if (e instanceof FieldSelectorParseError) throw badRequest(e.message);
    throw e;
  }
  const limitStr = q.get('limit');
  const limit = limitStr !== null ? parseInt64Param(limitStr) : 0;
  const rvm = q.get('resourceVersionMatch') ?? '';
  const rv = q.get('resourceVersion') ?? '';
  const cont = q.get('continue') ?? '';
  const sie = q.get('sendInitialEvents');
  const timeout = q.get('timeoutSeconds');
  const out: ListQuery = {
    labelSelector,
    fieldSelector,
    limit: Math.max(limit, 0),
    continue: cont,
    resourceVersion: rv,
    resourceVersionMatch: rvm as ListQuery['resourceVersionMatch'],
    watch: watchVerb || queryBool(q.get('watch')),
    allowWatchBookmarks: queryBool(q.get('allowWatchBookmarks')),
    sendInitialEvents: sie === null ? undefined : queryBool(sie),
    timeoutSeconds: timeout !== null ? parseInt64Param(timeout) : undefined,
  };
  validateListQuery(out);
  return out;
}

// Upstream validates ListOptions (separately for list and watch) and answers 422 Invalid
// on kind ListOptions.meta.k8s.io.
function validateListQuery(o: ListQuery): void {
  if (o.resourceVersion !== '' && o.resourceVersion !== '0' && !/^\d+$/.test(o.resourceVersion)) {
    throw badRequest(`invalid resource version: ${JSON.stringify(o.resourceVersion)}`);
  }
  const errs: FieldError[] = o.watch ? watchErrors(o) : listErrors(o);
  if (errs.length > 0) throw invalid('ListOptions', 'meta.k8s.io', '', errs);
  if (o.continue !== '' && o.resourceVersion !== '' && o.resourceVersion !== '0') {
    throw badRequest('specifying resource version is not allowed when using continue');
  }
}

const RVM = 'resourceVersionMatch';

function listErrors(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const m = o.resourceVersionMatch;
  if (m !== '') {
    if (o.resourceVersion === '')
      errs.push({
        type: 'FieldValueForbidden',
        field: RVM,
        detail: 'resourceVersionMatch is forbidden unless resourceVersion is provided',
      });
    if (o.continue !== '')
      errs.push({
        type: 'FieldValueForbidden',
        field: RVM,
        detail: 'resourceVersionMatch is forbidden when continue is provided',
      });
    if (m !== 'NotOlderThan' && m !== 'Exact') {
      errs.push({
        type: 'FieldValueNotSupported',
        field: RVM,
        badValue: m,
        detail: 'supported values: "Exact", "NotOlderThan", ""',
      });
    }
    if (m === 'Exact' && o.resourceVersion === '0') {
      errs.push({
        type: 'FieldValueForbidden',
        field: RVM,
        detail: 'resourceVersionMatch "exact" is forbidden for resourceVersion "0"',
      });
    }
  }
  if (o.sendInitialEvents !== undefined)
    errs.push({
      type: 'FieldValueForbidden',
      field: 'sendInitialEvents',
      detail: 'sendInitialEvents is forbidden for list',
    });
  return errs;
}

function watchErrors(o: ListQuery): FieldError[] {
  const errs: FieldError[] = [];
  const m = o.resourceVersionMatch;
  if (o.sendInitialEvents !== undefined && m !== 'NotOlderThan') {
    errs.push({
      type: 'FieldValueForbidden',
      field: RVM,
      detail: 'sendInitialEvents requires setting resourceVersionMatch to NotOlderThan',
    });
  }
  if (m !== '') {
    if (o.sendInitialEvents === undefined) {
      errs.push({
        type: 'FieldValueForbidden',
        field: RVM,
        detail: 'resourceVersionMatch is forbidden for watch unless sendInitialEvents is provided',
      });
    }
    if (m !== 'NotOlderThan')
      errs.push({
        type: 'FieldValueNotSupported',
        field: RVM,
        badValue: m,
        detail: 'supported values: "NotOlderThan"',
      });
    if (o.continue !== '')
      errs.push({
        type: 'FieldValueForbidden',
        field: RVM,
        detail: 'resourceVersionMatch is forbidden when continue is provided',
      });
  }
  return errs;
}
