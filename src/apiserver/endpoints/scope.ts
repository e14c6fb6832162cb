// Everything one resource request carries through the handlers, and the parsing of the
// write options every mutating verb shares (dryRun, fieldManager, fieldValidation).
import type { ResourceInfo } from '../../api/registry-types.js';
import type { ServedCustomResource } from '../../apiextensions/registry.js';
import type { FieldValidationMode } from '../../api/validation/schema-validate.js';
import { badRequest, invalid } from '../../machinery/status-error.js';
import type { RawRequest, RawResponse } from '../http.js';
import type { AdmissionOperation } from '../admission/types.js';
import type { RequestInfo } from '../request-info.js';
import type { AdmissionHooks, Store, WriteOptions } from '../registry/store.js';

/** The authenticated user of a request. */
export interface UserInfo {
  username: string;
  uid?: string;
  groups: string[];
  extra?: Record<string, string[]>;
}

/** One resource request in flight. */
export interface Scope {
  info: RequestInfo;
  url: URL;
  resource: ResourceInfo;
  store: Store;
  req: RawRequest;
  res: RawResponse;
  user: UserInfo;
  signal: AbortSignal;
  now: Date;
  /** Warnings collected for `Warning` headers. */
  warnings: string[];
  /** The admission chain's hooks for this request and operation (absent: no admission). */
  admit?: (operation: AdmissionOperation, dryRun: boolean) => AdmissionHooks;
  /** Set when the resource is a custom resource (its CRD, version and schema). */
  custom?: ServedCustomResource;
}

/** Write options parsed from the query, plus the schema-validation mode. */
export interface ParsedWriteOptions extends WriteOptions {
  fieldValidation: FieldValidationMode;
  /** The manager came from the fieldManager parameter (required for apply). */
  explicitManager: boolean;
}

const MAX_MANAGER_LENGTH = 128;

/** Upstream's default field manager: the User-Agent up to its first `/`. */
export function managerFromUserAgent(ua: string | undefined): string {
  if (!ua) return 'unknown';
  const p = ua.split('/')[0]!.trim();
  return p === '' ? 'unknown' : p.slice(0, MAX_MANAGER_LENGTH);
}

/** Parses dryRun, fieldManager and fieldValidation of a write. */
export function parseWriteOptions(s: Scope): ParsedWriteOptions {
  const q = s.url.searchParams;
  const dryRuns = q.getAll('dryRun');
  for (const d of dryRuns) {
    if (d !== 'All') {
      throw invalid(s.resource.kind, s.resource.group, s.info.name, [
        {
          type: 'FieldValueNotSupported',
          field: 'dryRun',
          badValue: dryRuns,
          detail: 'supported values: "All"',
        },
      ]);
    }
  }
  const fm = q.get('fieldManager');
  if (fm !== null && fm.length > MAX_MANAGER_LENGTH) {
    throw invalid(s.resource.kind, s.resource.group, s.info.name, [
      {
        type: 'FieldValueTooLong',
        field: 'fieldManager',
        badValue: fm,
        detail: `must have at most ${MAX_MANAGER_LENGTH} bytes`,
      },
    ]);
  }
  const fvRaw = q.get('fieldValidation') ?? '';
  let fieldValidation: FieldValidationMode;
  switch (fvRaw.toLowerCase()) {
    case '':
    case 'warn':
      fieldValidation = 'Warn';
      break;
    case 'strict':
      fieldValidation = 'Strict';
      break;
    case 'ignore':
      fieldValidation = 'Ignore';
      break;
    default:
      throw badRequest(
        `fieldValidation must be one of "Ignore", "Warn", or "Strict", got ${JSON.stringify(fvRaw)}`,
      );
  }
  const ua = s.req.headers['user-agent'];
  const dryRun = dryRuns.length > 0;
  const verb = s.info.verb;
  const operation: AdmissionOperation =
    verb === 'update' || verb === 'patch'
      ? 'UPDATE'
      : verb === 'delete' || verb === 'deletecollection'
        ? 'DELETE'
        : 'CREATE';
  return {
    ...(s.admit ? { admission: s.admit(operation, dryRun) } : {}),
    dryRun,
    fieldManager: fm ?? managerFromUserAgent(typeof ua === 'string' ? ua : undefined),
    explicitManager: fm !== null,
    subresource: s.info.subresource,
    warnings: s.warnings,
    fieldValidation,
  };
}
