// Impersonation (upstream's WithImpersonation filter): `Impersonate-User`, `Impersonate-Group`,
// `Impersonate-Uid` and `Impersonate-Extra-<key>` headers let a requestor act as someone else,
// each part authorized separately as the verb `impersonate` on users / serviceaccounts /
// groups / uids / userextras. It runs after authentication and before the request's own
// authorization, so everything after it (RBAC, admission, SelfSubjectReview, can-i) sees
// only the impersonated user.
import { internalError } from '../../machinery/status-error.js';
import type { Authorizer, AuthzAttributes } from '../endpoints/reviews.js';
import type { UserInfo } from '../endpoints/scope.js';
import { forbiddenError } from './authorizer.js';

const SA_PREFIX = 'system:serviceaccount:';
const EXTRA_PREFIX = 'impersonate-extra-';
const ANONYMOUS_USER = 'system:anonymous';
const AUTHENTICATED = 'system:authenticated';
const UNAUTHENTICATED = 'system:unauthenticated';

/** One thing a request asks to impersonate, as the authorizer is asked about it. */
interface ImpersonationRequest {
  kind: 'ServiceAccount' | 'User' | 'Group' | 'UserExtra' | 'UID';
  name: string;
  namespace: string;
  /** The extra's key, for `UserExtra`. */
  key: string;
}

/** The impersonation headers of a request, each value kept separately. */
export interface ImpersonationHeaders {
  user: string;
  uid: string;
  groups: string[];
  extra: Array<[string, string]>;
}

/**
 * Reads the impersonation headers from a raw header list (name, value, name, value, …): node
 * joins repeated headers with ", " in `req.headers`, which would merge distinct groups.
 */
export function impersonationHeaders(rawHeaders: readonly string[]): ImpersonationHeaders {
  const out: ImpersonationHeaders = { user: '', uid: '', groups: [], extra: [] };
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = (rawHeaders[i] ?? '').toLowerCase();
    if (!name.startsWith('impersonate-')) continue;
    const value = rawHeaders[i + 1] ?? '';
    if (name === 'impersonate-user') {
      // Go's Header.Get returns the first value.
      if (out.user === '') out.user = value;
    } else if (name === 'impersonate-uid') {
      if (out.uid === '') out.uid = value;
    } else if (name === 'impersonate-group') {
      out.groups.push(value);
    } else if (name.startsWith(EXTRA_PREFIX)) {
      out.extra.push([unescapeExtraKey(name.slice(EXTRA_PREFIX.length)), value]);
    }
  }
  return out;
}

// Extra keys may hold characters a header name cannot, so clients percent-encode them.
function unescapeExtraKey(key: string): string {
  try {
    return decodeURIComponent(key);
  } catch {
    return key;
  }
}

/** Whether a request asks to impersonate anything. */
export function wantsImpersonation(h: ImpersonationHeaders): boolean {
  return h.user !== '' || h.uid !== '' || h.groups.length > 0 || h.extra.length > 0;
}

function splitServiceAccount(username: string): { namespace: string; name: string } | undefined {
  if (!username.startsWith(SA_PREFIX)) return undefined;
  const parts = username.slice(SA_PREFIX.length).split(':');
  if (parts.length !== 2 || parts[0] === '' || parts[1] === '') return undefined;
  return { namespace: parts[0] ?? '', name: parts[1] ?? '' };
}

function requestsOf(h: ImpersonationHeaders): ImpersonationRequest[] {
  const out: ImpersonationRequest[] = [];
  if (h.user !== '') {
    const sa = splitServiceAccount(h.user);
    out.push(
      sa
        ? { kind: 'ServiceAccount', name: sa.name, namespace: sa.namespace, key: '' }
        : { kind: 'User', name: h.user, namespace: '', key: '' },
    );
  }
  for (const g of h.groups) out.push({ kind: 'Group', name: g, namespace: '', key: '' });
  for (const [key, value] of h.extra) out.push({ kind: 'UserExtra', name: value, namespace: '', key });
  if (h.uid !== '') out.push({ kind: 'UID', name: h.uid, namespace: '', key: '' });
  if (h.user === '' && out.length > 0) {
    const list = out.map((r) => `{${r.kind} ${r.namespace} ${r.name}}`).join(' ');
    throw internalError(`requested [${list}] without impersonating a user`);
  }
  return out;
}

function attributesOf(requestor: UserInfo, r: ImpersonationRequest): AuthzAttributes {
  const base = {
    user: requestor,
    verb: 'impersonate',
    namespace: r.namespace,
    name: r.name,
    subresource: '',
    resourceRequest: true,
  };
  switch (r.kind) {
    case 'ServiceAccount':
      return { ...base, apiGroup: '', resource: 'serviceaccounts' };
    case 'User':
      return { ...base, apiGroup: '', resource: 'users' };
    case 'Group':
      return { ...base, apiGroup: '', resource: 'groups' };
    case 'UserExtra':
      return { ...base, apiGroup: 'authentication.k8s.io', resource: 'userextras', subresource: r.key };
    case 'UID':
      return { ...base, apiGroup: 'authentication.k8s.io', resource: 'uids' };
  }
}

/**
 * Returns the user a request acts as: the requestor itself without impersonation headers,
 * else the impersonated user once every part is authorized (403 with upstream's message
 * naming the first part refused). `system:masters` may impersonate anyone, as it may do
 * anything else.
 */
export function impersonate(
  requestor: UserInfo,
  h: ImpersonationHeaders,
  authorizer: Pick<Authorizer, 'authorize'>,
): UserInfo {
  const requests = requestsOf(h);
  if (requests.length === 0) return requestor;
  const privileged = requestor.groups.includes('system:masters');
  let username = '';
  let uid = '';
  let groups: string[] = [];
  const extra: Record<string, string[]> = {};
  for (const r of requests) {
    const attrs = attributesOf(requestor, r);
    if (!privileged) {
      const decision = authorizer.authorize(attrs);
      if (!decision.allowed) throw forbiddenError(attrs, decision.reason);
    }
    switch (r.kind) {
      case 'ServiceAccount':
        username = `${SA_PREFIX}${r.namespace}:${r.name}`;
        // A service account's groups are a fixed mapping, unless the request names its own.
        if (h.groups.length === 0)
          groups = ['system:serviceaccounts', `system:serviceaccounts:${r.namespace}`];
        break;
      case 'User':
        username = r.name;
        break;
      case 'Group':
        groups.push(r.name);
        break;
      case 'UserExtra':
        extra[r.key] = [...(extra[r.key] ?? []), r.name];
        break;
      case 'UID':
        uid = r.name;
        break;
    }
  }
  if (username !== ANONYMOUS_USER) {
    if (!groups.includes(AUTHENTICATED) && !groups.includes(UNAUTHENTICATED)) groups.push(AUTHENTICATED);
  } else if (!groups.includes(UNAUTHENTICATED)) {
    groups.push(UNAUTHENTICATED);
  }
  return {
    username,
    ...(uid !== '' ? { uid } : {}),
    groups,
    ...(Object.keys(extra).length > 0 ? { extra } : {}),
  };
}
