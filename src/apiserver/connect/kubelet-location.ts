// Where a pod's connect request goes: the pod (and its container, defaulted and checked as
// upstream's pod registry does), its node, and the node's kubelet address (InternalIP, then
// Hostname; port from `status.daemonEndpoints`). Also the API server's client identity
// towards kubelets: a certificate from the cluster CA issued at start (upstream's
// `kube-apiserver-kubelet-client`), and, as upstream does by default, no verification of the
// kubelet's serving certificate (kubelets often serve a self-signed one).

import type { ConnectionOptions } from 'node:tls';
import type { Node, Pod } from '../../api/generated/types/core-v1.js';
import { badRequest, serviceUnavailable } from '../../machinery/status-error.js';
import { createKeyPair, type KeyPair } from '../../pki/x509.js';
import type { StoreRegistry } from '../stores.js';

/** The default kubelet port when a Node does not advertise one. */
export const DEFAULT_KUBELET_PORT = 10250;

/** The address of one node's kubelet. */
export interface KubeletAddress {
  host: string;
  port: number;
}

/** A resolved connect target: the pod, the chosen container and its kubelet. */
export interface PodTarget {
  pod: Pod;
  namespace: string;
  name: string;
  /** '' for port-forward, which addresses the pod and not a container. */
  container: string;
  kubelet: KubeletAddress;
}

/** The API server's TLS identity towards kubelets. */
export class KubeletConnector {
  private readonly identity: KeyPair;

  /** Issues the client certificate from the cluster CA. */
  constructor(ca: KeyPair) {
    this.identity = createKeyPair(
      {
        subject: { commonName: 'kube-apiserver-kubelet-client', organizations: ['system:masters'] },
        notAfter: new Date(Date.now() + 365 * 86_400_000),
        usages: ['clientAuth'],
      },
      ca,
    );
  }

  /** TLS options for a connection to a kubelet. */
  tlsOptions(addr: KubeletAddress): ConnectionOptions {
    return {
      host: addr.host,
      port: addr.port,
      cert: this.identity.certPem,
      key: this.identity.keyPem,
      rejectUnauthorized: false,
      ALPNProtocols: ['http/1.1'],
      // SNI must be a host name, never an IP address.
      ...(/^[\d.]+$|:/.test(addr.host) ? {} : { servername: addr.host }),
    };
  }
}

function joinNames(list: { name: string }[] | undefined): string {
  return (list ?? []).map((c) => c.name).join(' ');
}

function hasContainer(pod: Pod, name: string): boolean {
  const s = pod.spec;
  return [...(s?.containers ?? []), ...(s?.initContainers ?? []), ...(s?.ephemeralContainers ?? [])].some(
    (c) => c.name === name,
  );
}

/** The container a request names, or the pod's only one (upstream's messages otherwise). */
export function chooseContainer(pod: Pod, name: string, requested: string): string {
  if (requested !== '') {
    if (!hasContainer(pod, requested))
      throw badRequest(`container ${requested} is not valid for pod ${name}`);
    return requested;
  }
  const containers = pod.spec?.containers ?? [];
  if (containers.length === 1) return containers[0]?.name ?? '';
  if (containers.length === 0) throw badRequest(`a container name must be specified for pod ${name}`);
  let msg = `a container name must be specified for pod ${name}, choose one of: [${joinNames(containers)}]`;
  if ((pod.spec?.initContainers ?? []).length > 0)
    msg += ` or one of the init containers: [${joinNames(pod.spec?.initContainers)}]`;
  throw badRequest(msg);
}

/** A node's kubelet address, or 503 when it advertises none. */
export function kubeletAddress(node: Node): KubeletAddress {
  const addrs = node.status?.addresses ?? [];
  const pick = (type: string): string | undefined =>
    addrs.find((a) => a.type === type && a.address !== '')?.address;
  const host = pick('InternalIP') ?? pick('Hostname') ?? pick('ExternalIP');
  const name = node.metadata?.name ?? '';
  if (host === undefined)
    throw serviceUnavailable(`no kubelet address is known for node ${JSON.stringify(name)}`);
  const port = node.status?.daemonEndpoints?.kubeletEndpoint?.Port;
  return { host, port: typeof port === 'number' && port > 0 ? port : DEFAULT_KUBELET_PORT };
}

/**
 * Looks up the pod, its container and its node's kubelet. `kind` is the connect
 * subresource; a pod without a node is a 400 for the streaming ones and undefined for `log`
 * (upstream answers an empty log).
 */
export async function resolvePodTarget(
  stores: StoreRegistry,
  namespace: string,
  name: string,
  requestedContainer: string,
  kind: 'log' | 'exec' | 'attach' | 'portforward',
): Promise<PodTarget | undefined> {
  const pod = (await stores.byName('', 'pods').get(namespace, name)) as Pod;
  const container = kind === 'portforward' ? '' : chooseContainer(pod, name, requestedContainer);
  const nodeName = pod.spec?.nodeName ?? '';
  if (nodeName === '') {
    if (kind === 'log') return undefined;
    throw badRequest(`pod ${name} does not have a host assigned`);
  }
  const node = (await stores.byName('', 'nodes').get('', nodeName)) as Node;
  return { pod, namespace, name, container, kubelet: kubeletAddress(node) };
}
