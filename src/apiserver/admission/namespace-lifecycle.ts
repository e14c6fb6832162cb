// NamespaceLifecycle (upstream apiserver/pkg/admission/plugin/namespace/lifecycle): nothing
// new may be created in a namespace that does not exist or is being terminated, and the
// immortal namespaces can never be deleted. It runs first so later plugins never look up
// objects in a namespace that is not there.
import { notFound, StatusError } from '../../machinery/status-error.js';
import type { StoreRegistry } from '../stores.js';
import { denied, getOrUndefined, isResource } from './attributes.js';
import type { AdmissionPlugin, AdmissionRequest } from './types.js';

/** Namespaces that may not be deleted. */
export const IMMORTAL_NAMESPACES = ['default', 'kube-system', 'kube-public'];

// Reviews answer about access, not content: telling them the namespace is missing leaks
// information, so upstream lets them through.
const ACCESS_REVIEWS = new Set(['localsubjectaccessreviews']);

/** The NamespaceLifecycle plugin. */
export function namespaceLifecycle(stores: StoreRegistry): AdmissionPlugin {
  return {
    name: 'NamespaceLifecycle',
    async admit(req: AdmissionRequest): Promise<void> {
      const isNamespace = isResource(req, '', 'namespaces');
      if (req.operation === 'DELETE' && isNamespace && req.subresource === '') {
        if (IMMORTAL_NAMESPACES.includes(req.name)) throw denied(req, 'this namespace may not be deleted');
        return;
      }
      if (isNamespace || !req.resource.namespaced || req.namespace === '') return;
      if (req.resource.group === 'authorization.k8s.io' && ACCESS_REVIEWS.has(req.resource.plural)) return;
      if (req.operation === 'DELETE') return;
      const ns = await getOrUndefined(stores, '', 'namespaces', '', req.namespace);
      if (!ns) {
        // Updates of objects in a missing namespace are answered by the Store (404 on the
        // object); creates are refused here with the namespace's NotFound, as upstream.
        if (req.operation === 'CREATE') throw notFound({ group: '', resource: 'namespaces' }, req.namespace);
        return;
      }
      if (req.operation !== 'CREATE') return;
      const phase = (ns.status as { phase?: string } | undefined)?.phase;
      if (phase !== 'Terminating' && ns.metadata?.deletionTimestamp === undefined) return;
      const base = denied(
        req,
        `unable to create new content in namespace ${req.namespace} because it is being terminated`,
      );
      throw new StatusError({
        ...base.status,
        details: {
          ...base.status.details,
          causes: [
            {
              reason: 'NamespaceTerminating',
              message: `namespace ${req.namespace} is being terminated`,
              field: 'metadata.namespace',
            },
          ],
        },
      });
    },
  };
}
