// Parses a request's method and URL into what it addresses (upstream RequestInfoFactory):
// authorization, admission, audit and routing all key off this one structure, so the rules
// here must match upstream exactly (e.g. namespace `status`/`finalize` subresources, the
// deprecated `/watch/` path prefix, `metadata.name` field selectors narrowing list/watch).
import { queryBool } from './registry/list-options.js';

/** What a request addresses. */
export interface RequestInfo {
  /** False for discovery, health, version, openapi and other non-resource paths. */
  isResourceRequest: boolean;
  path: string;
  /** Lower-case verb: get, list, watch, create, update, patch, delete, deletecollection, or the HTTP method for non-resource requests. */
  verb: string;
  /** `api` or `apis` for resource requests. */
  apiPrefix: string;
  apiGroup: string;
  apiVersion: string;
  namespace: string;
  resource: string;
  subresource: string;
  name: string;
  /** Path segments after the API version (and namespace), as upstream's `Parts`. */
  parts: string[];
}

const namespaceSubresources = new Set(['status', 'finalize']);

/** Parses `method` + `url` (path and query) into a RequestInfo. */
export function parseRequestInfo(method: string, url: URL): RequestInfo {
  const path = url.pathname;
  const info: RequestInfo = {
    isResourceRequest: false,
    path,
    verb: method.toLowerCase(),
    apiPrefix: '',
    apiGroup: '',
    apiVersion: '',
    namespace: '',
    resource: '',
    subresource: '',
    name: '',
    parts: [],
  };
  let parts = splitPath(path);
  if (parts.length === 0) return info;
  const prefix = parts[0]!;
  if (prefix !== 'api' && prefix !== 'apis') return info;
  info.apiPrefix = prefix;
  parts = parts.slice(1);
  if (prefix === 'apis') {
    if (parts.length < 3) return info; // /apis, /apis/<group>, /apis/<group>/<version>
    info.apiGroup = parts[0]!;
    parts = parts.slice(1);
  } else if (parts.length < 2) {
    return info; // /api, /api/v1
  }
  info.isResourceRequest = true;
  info.apiVersion = parts[0]!;
  parts = parts.slice(1);

  const watchParam = url.searchParams.get('watch');
  const isWatchParam = queryBool(watchParam);
  let verbFromPath = '';
  if (parts[0] === 'watch') {
    verbFromPath = 'watch';
    parts = parts.slice(1);
  }

  switch (method.toUpperCase()) {
    case 'POST':
      info.verb = 'create';
      break;
    case 'GET':
    case 'HEAD':
      info.verb = 'get';
      break;
    case 'PUT':
      info.verb = 'update';
      break;
    case 'PATCH':
      info.verb = 'patch';
      break;
    case 'DELETE':
      info.verb = 'delete';
      break;
    default:
      info.verb = '';
  }
  if (verbFromPath !== '') info.verb = verbFromPath;

  if (parts[0] === 'namespaces') {
    if (parts.length > 1) {
      info.namespace = parts[1]!;
      if (parts.length > 2 && !namespaceSubresources.has(parts[2]!)) parts = parts.slice(2);
    }
  }
  info.parts = parts;
  if (parts.length >= 3) info.subresource = parts[2]!;
  if (parts.length >= 2) info.name = parts[1]!;
  if (parts.length >= 1) info.resource = parts[0]!;

  if (info.name === '' && info.verb === 'get') info.verb = isWatchParam ? 'watch' : 'list';
  if (info.name === '' && info.verb === 'delete') info.verb = 'deletecollection';

  // A list or watch narrowed to one name by field selector is authorized like a get of it.
  if (info.verb === 'list' || info.verb === 'watch') {
    const fs = url.searchParams.get('fieldSelector');
    if (fs) {
      const m = /^metadata\.name==?([^,]*)$/.exec(fs);
      if (m && m[1] !== undefined) info.name = m[1];
    }
  }
  return info;
}

function splitPath(path: string): string[] {
  const trimmed = path.replace(/^\/+/, '').replace(/\/+$/, '');
  return trimmed === '' ? [] : trimmed.split('/').map((p) => decodeURIComponentSafe(p));
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
