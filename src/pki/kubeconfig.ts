// Writes kubeconfig files with embedded credentials (base64 PEM), so a kubeconfig can be
// copied off the machine and keeps working.
import { renameSync, writeFileSync } from 'node:fs';
import { stringify } from 'yaml';

/** What a kubeconfig needs to reach and authenticate to the API server. */
export interface KubeconfigSpec {
  server: string;
  caPem: string;
  /** Client certificate auth. */
  clientCertPem?: string;
  clientKeyPem?: string;
  /** Bearer token auth. */
  token?: string;
  clusterName?: string;
  userName?: string;
  namespace?: string;
}

const b64 = (s: string): string => Buffer.from(s).toString('base64');

/** Renders a kubeconfig as YAML. */
export function renderKubeconfig(spec: KubeconfigSpec): string {
  const cluster = spec.clusterName ?? 'default';
  const user = spec.userName ?? 'default';
  const userEntry: Record<string, string> = {};
  if (spec.clientCertPem) userEntry['client-certificate-data'] = b64(spec.clientCertPem);
  if (spec.clientKeyPem) userEntry['client-key-data'] = b64(spec.clientKeyPem);
  if (spec.token) userEntry.token = spec.token;
  const context: Record<string, string> = { cluster, user };
  if (spec.namespace) context.namespace = spec.namespace;
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      { name: cluster, cluster: { server: spec.server, 'certificate-authority-data': b64(spec.caPem) } },
    ],
    contexts: [{ name: cluster, context }],
    'current-context': cluster,
    preferences: {},
    users: [{ name: user, user: userEntry }],
  });
}

/** Writes a kubeconfig file atomically with mode 0600. */
export function writeKubeconfig(path: string, spec: KubeconfigSpec): void {
  const tmp = `${path}.tmp`;
  writeFileSync(tmp, renderKubeconfig(spec), { mode: 0o600 });
  renameSync(tmp, path);
}
