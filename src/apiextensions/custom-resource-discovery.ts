// How a client (a controller in another process) learns which custom resources the API
// serves: from the CustomResourceDefinitions it can list, the same source the API server's
// discovery documents are built from — every served version of every Established CRD.
import type { CustomResourceDefinition } from '../api/generated/types/apiextensions-v1.js';
import type { ResourceInfo } from '../api/registry-types.js';
import { type Client, gvr } from '../client/interface.js';
import { isEstablished, resourceInfoFor, servedVersions } from './resource-info.js';

/** apiextensions.k8s.io/v1 customresourcedefinitions. */
export const CUSTOMRESOURCEDEFINITIONS = gvr<CustomResourceDefinition & { metadata?: { name?: string } }>(
  'apiextensions.k8s.io',
  'v1',
  'customresourcedefinitions',
);

/** The resources served for these CRDs (Established ones, each served version). */
export function customResourceInfos(crds: readonly CustomResourceDefinition[]): ResourceInfo[] {
  const out: ResourceInfo[] = [];
  for (const crd of crds) {
    if (!isEstablished(crd)) continue;
    for (const v of servedVersions(crd)) out.push(resourceInfoFor(crd, v));
  }
  return out;
}

/** Lists the CRDs through `client` and returns the custom resources they serve. */
export async function discoverCustomResources(client: Client): Promise<ResourceInfo[]> {
  const list = await client.resource(CUSTOMRESOURCEDEFINITIONS).list('');
  return customResourceInfos(list.items as CustomResourceDefinition[]);
}
