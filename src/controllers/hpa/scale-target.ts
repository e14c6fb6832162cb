// The HPA's view of its target: the `/scale` subresource (autoscaling/v1 Scale) of whatever
// `scaleTargetRef` names — Deployments, ReplicaSets, StatefulSets, ReplicationControllers, and
// custom resources whose CRD declares a scale subresource. The kind is mapped to a resource as
// upstream's RESTMapper does (group and kind; any served version), built-ins from the served
// table and custom resources from the CRDs the controller can list (re-listed when a kind is
// not known yet, so a CRD created after the controller started is found).

import type { Scale } from '../../api/generated/types/autoscaling-v1.js';
import type { ResourceInfo } from '../../api/registry-types.js';
import { discoverCustomResources } from '../../apiextensions/custom-resource-discovery.js';
import { servedResources } from '../../apiserver/served.js';
import { type Client, type GroupVersionResource, gvr } from '../../client/interface.js';

/** A parsed scaleTargetRef. */
export interface ScaleTargetRef {
  apiVersion?: string;
  kind: string;
  name: string;
}

/** Reads and writes the scale of HPA targets. */
export interface ScaleClient {
  /** The target's resource and current Scale. */
  get(namespace: string, ref: ScaleTargetRef): Promise<{ resource: GroupVersionResource; scale: Scale }>;
  /** Writes a Scale back to the target. */
  update(namespace: string, resource: GroupVersionResource, scale: Scale): Promise<Scale>;
}

/** `group/version` → group, as schema.ParseGroupVersion (throws upstream's error). */
export function parseGroup(apiVersion: string | undefined): string {
  const v = apiVersion ?? '';
  if (v === '' || v === 'v1') return '';
  const parts = v.split('/');
  if (parts.length === 1) return '';
  if (parts.length === 2) return parts[0] ?? '';
  throw new Error(`unexpected GroupVersion string: ${v}`);
}

function hasScale(r: ResourceInfo): boolean {
  return r.subresources.some((s) => s.name === 'scale');
}

/** The Scale subresource through the API client. */
export class RestScaleClient implements ScaleClient {
  private custom: ResourceInfo[] = [];

  /** Scales through `client` (its identity needs get/update on `*\/scale`). */
  constructor(private readonly client: Client) {}

  private find(group: string, kind: string): ResourceInfo | undefined {
    const match = (r: ResourceInfo): boolean => r.group === group && r.kind === kind && hasScale(r);
    return servedResources().find(match) ?? this.custom.find(match);
  }

  /** The resource of group/kind (upstream's RESTMapping), or upstream's no-match error. */
  async mapping(group: string, kind: string): Promise<ResourceInfo> {
    let r = this.find(group, kind);
    if (r === undefined) {
      this.custom = (await discoverCustomResources(this.client)).filter(hasScale);
      r = this.find(group, kind);
    }
    if (r === undefined)
      throw new Error(`no matches for kind ${JSON.stringify(kind)} in group ${JSON.stringify(group)}`);
    return r;
  }

  async get(
    namespace: string,
    ref: ScaleTargetRef,
  ): Promise<{ resource: GroupVersionResource; scale: Scale }> {
    const r = await this.mapping(parseGroup(ref.apiVersion), ref.kind);
    const resource = gvr(r.group, r.version, r.plural);
    const scale = (await this.client
      .resource(resource)
      .get(namespace, ref.name, { subresource: 'scale' })) as Scale;
    return { resource, scale };
  }

  async update(namespace: string, resource: GroupVersionResource, scale: Scale): Promise<Scale> {
    return (await this.client
      .resource(gvr(resource.group, resource.version, resource.resource))
      .update(namespace, scale, { subresource: 'scale' })) as Scale;
  }
}
