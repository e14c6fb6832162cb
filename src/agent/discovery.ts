// Token discovery of the cluster (kubeadm's discovery/token): fetch the `cluster-info`
// ConfigMap from kube-public anonymously over TLS without trusting the server yet, check
// its per-token JWS signature (which proves the server knows the token), pin the CA when
// the token carries its hash (K10<hash>::…), then fetch it again over TLS verified against
// that CA, so the CA really is the one the server presents.
import { request } from 'node:https';
import { parse } from 'yaml';
import {
  caCertHash,
  CLUSTER_INFO,
  JWS_KEY_PREFIX,
  type JoinToken,
  verifyClusterInfo,
} from '../server/join-token.js';

/** What discovery learned. */
export interface ClusterInfo {
  /** The API server URL from cluster-info (clients use the --server the user gave). */
  server: string;
  caPem: string;
}

/** A failure the user must fix (bad token, wrong CA hash), as opposed to one worth retrying. */
export class DiscoveryError extends Error {}

function get(
  url: string,
  caPem: string | undefined,
  timeoutMs: number,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: 'GET',
        ...(caPem !== undefined ? { ca: caPem } : { rejectUnauthorized: false }),
        timeout: timeoutMs,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer from ${url} within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

async function fetchClusterInfo(server: string, caPem: string | undefined): Promise<Record<string, string>> {
  const url = `${server.replace(/\/$/, '')}/api/v1/namespaces/${CLUSTER_INFO.namespace}/configmaps/${CLUSTER_INFO.name}`;
  const res = await get(url, caPem, 10_000);
  if (res.status === 404)
    throw new DiscoveryError(
      `the server has no ${CLUSTER_INFO.namespace}/${CLUSTER_INFO.name} ConfigMap: is it a kts server?`,
    );
  if (res.status !== 200)
    throw new Error(`reading cluster-info failed: HTTP ${res.status}: ${res.body.slice(0, 200)}`);
  const cm = JSON.parse(res.body) as { data?: Record<string, string> };
  return cm.data ?? {};
}

/**
 * Discovers the cluster behind `server` with `token`. `warn` gets kubeadm's warning when the
 * token carries no CA hash (the CA is then trusted on the strength of the JWS alone).
 */
export async function discoverCluster(
  server: string,
  token: JoinToken,
  warn: (m: string) => void,
): Promise<ClusterInfo> {
  const data = await fetchClusterInfo(server, undefined);
  const kubeconfig = data.kubeconfig;
  if (kubeconfig === undefined)
    throw new DiscoveryError('there is no kubeconfig in the cluster-info ConfigMap');
  const jws = data[`${JWS_KEY_PREFIX}${token.id}`];
  if (jws === undefined)
    throw new DiscoveryError(
      `the token is not valid: token id "${token.id}" is invalid for this cluster or it has expired (the server keeps its join token in DATA_DIR/agent-token)`,
    );
  if (!verifyClusterInfo(kubeconfig, jws, token))
    throw new DiscoveryError(
      "the token is not valid: failed to verify JWS signature of received cluster info object, can't trust this API Server",
    );
  const cfg = parse(kubeconfig) as { clusters?: Array<{ cluster?: Record<string, string> }> };
  const cluster = cfg.clusters?.[0]?.cluster ?? {};
  const caData = cluster['certificate-authority-data'];
  if (caData === undefined)
    throw new DiscoveryError('the cluster-info kubeconfig has no certificate-authority-data');
  const caPem = Buffer.from(caData, 'base64').toString('utf8');
  if (token.caHash !== undefined) {
    const have = caCertHash(caPem);
    if (have !== token.caHash)
      throw new DiscoveryError(
        `cluster CA found in cluster-info ConfigMap is invalid: its hash ${have} is not the one the token pins (${token.caHash})`,
      );
  } else {
    warn('the token carries no CA hash (K10<hash>::…): trusting the cluster CA from cluster-info unverified');
  }
  // The second, verified read proves the server presents a certificate of this CA.
  await fetchClusterInfo(server, caPem);
  return { server: cluster.server ?? server, caPem };
}
