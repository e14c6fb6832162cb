// Authorization. Until RBAC lands (the distribution issue), kts allows every authenticated
// user everything and anonymous users only the endpoints upstream opens to them by default
// (health, version, discovery of nothing else). `forbiddenError` renders denials exactly as
// upstream, so clients see the same messages once RBAC decides.
import { forbidden, StatusError } from '../../machinery/status-error.js';
import type { UserInfo } from '../endpoints/scope.js';
import type { Authorizer, AuthzAttributes, Decision } from '../endpoints/reviews.js';

const PUBLIC_PATHS = [
  '/healthz',
  '/livez',
  '/readyz',
  '/version',
  '/.well-known/openid-configuration',
  '/openid/v1/jwks',
];

function isPublicPath(path: string): boolean {
  return PUBLIC_PATHS.some((p) => path === p || path.startsWith(`${p}/`));
}

/** Allows authenticated users everything; anonymous users only public paths. */
export class AuthenticatedAllowAll implements Authorizer {
  authorize(a: AuthzAttributes): Decision {
    if (a.user.groups.includes('system:authenticated')) return { allowed: true, reason: '' };
    if (!a.resourceRequest && a.path !== undefined && isPublicPath(a.path))
      return { allowed: true, reason: '' };
    return { allowed: false, reason: '' };
  }

  rulesFor(
    user: UserInfo,
    _namespace: string,
  ): { resourceRules: unknown[]; nonResourceRules: unknown[]; incomplete: boolean } {
    if (!user.groups.includes('system:authenticated')) {
      return {
        resourceRules: [],
        nonResourceRules: [{ verbs: ['get'], nonResourceURLs: PUBLIC_PATHS }],
        incomplete: false,
      };
    }
    return {
      resourceRules: [{ verbs: ['*'], apiGroups: ['*'], resources: ['*'] }],
      nonResourceRules: [{ verbs: ['*'], nonResourceURLs: ['*'] }],
      incomplete: false,
    };
  }
}

/** The 403 upstream answers for a denied request. */
export function forbiddenError(a: AuthzAttributes, reason = ''): StatusError {
  const who = `User ${JSON.stringify(a.user.username)}`;
  if (!a.resourceRequest) {
    const msg = `${who} cannot ${a.verb} path ${JSON.stringify(a.path ?? '')}${reason ? `: ${reason}` : ''}`;
    return new StatusError({ reason: 'Forbidden', code: 403, message: `forbidden: ${msg}`, details: {} });
  }
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const where = a.namespace ? ` in the namespace ${JSON.stringify(a.namespace)}` : ' at the cluster scope';
  const msg = `${who} cannot ${a.verb} resource ${JSON.stringify(res)} in API group ${JSON.stringify(a.apiGroup)}${where}${reason ? `: ${reason}` : ''}`;
  return forbidden({ group: a.apiGroup, resource: a.resource }, a.name, msg);
}
