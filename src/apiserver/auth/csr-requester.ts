// Who asked for a certificate: upstream's CSR strategy overwrites `spec.username`, `uid`,
// `groups` and `extra` with the authenticated requester on create, whatever the client
// sent, so approvers (people via `kubectl get csr`, and the csrapproving controller's
// SubjectAccessReview) can trust them.
import type { UserInfo } from '../endpoints/scope.js';
import type { KObject } from '../registry/object.js';

/** True for the certificates.k8s.io CertificateSigningRequest resource. */
export function isCSRResource(r: { group: string; plural: string }): boolean {
  return r.group === 'certificates.k8s.io' && r.plural === 'certificatesigningrequests';
}

/** Sets the requester fields of a CSR being created from the request's user. */
export function stampCSRRequester(obj: KObject, user: UserInfo): void {
  const spec = (typeof obj.spec === 'object' && obj.spec !== null ? obj.spec : {}) as Record<string, unknown>;
  spec.username = user.username;
  if (user.uid !== undefined && user.uid !== '') spec.uid = user.uid;
  else delete spec.uid;
  spec.groups = [...user.groups];
  if (user.extra !== undefined && Object.keys(user.extra).length > 0) spec.extra = user.extra;
  else delete spec.extra;
  obj.spec = spec;
}
