// `GET pods/<name>/log`: validates the PodLogOptions, finds the pod's kubelet and streams
// its `/containerLogs/…` answer to the client as it arrives (a followed log stays open until
// either side ends it). A kubelet error becomes an API Status with the kubelet's text.

import type { IncomingMessage } from 'node:http';
import https from 'node:https';
import {
  badRequest,
  type FieldError,
  internalError,
  invalid,
  StatusError,
  serviceUnavailable,
} from '../../machinery/status-error.js';
import type { Scope } from '../endpoints/scope.js';
import type { StoreRegistry } from '../stores.js';
import type { KubeletConnector } from './kubelet-location.js';
import { resolvePodTarget } from './kubelet-location.js';

const INT_PARAMS = ['sinceSeconds', 'tailLines', 'limitBytes'] as const;
const BOOL_PARAMS = ['follow', 'previous', 'timestamps'] as const;

function parseBool(q: URLSearchParams, key: string): boolean {
  const v = q.get(key);
  if (v === null || v === '') return false;
  if (v === 'true' || v === '1') return true;
  if (v === 'false' || v === '0') return false;
  throw badRequest(`strconv.ParseBool: parsing ${JSON.stringify(v)}: invalid syntax`);
}

/** The kubelet query for a PodLogOptions query (validated as upstream validates it). */
export function kubeletLogQuery(q: URLSearchParams): URLSearchParams {
  const out = new URLSearchParams();
  for (const k of BOOL_PARAMS) if (parseBool(q, k)) out.set(k, 'true');
  const errors: FieldError[] = [];
  const ints: Partial<Record<(typeof INT_PARAMS)[number], number>> = {};
  for (const k of INT_PARAMS) {
    const v = q.get(k);
    if (v === null || v === '') continue;
    const n = Number(v);
    if (!Number.isInteger(n))
      throw badRequest(`strconv.ParseInt: parsing ${JSON.stringify(v)}: invalid syntax`);
    ints[k] = n;
  }
  if (ints.tailLines !== undefined && ints.tailLines < 0)
    errors.push({
      type: 'FieldValueInvalid',
      field: 'tailLines',
      badValue: ints.tailLines,
      detail: 'must be greater than or equal to 0',
    });
  if (ints.limitBytes !== undefined && ints.limitBytes < 1)
    errors.push({
      type: 'FieldValueInvalid',
      field: 'limitBytes',
      badValue: ints.limitBytes,
      detail: 'must be greater than 0',
    });
  if (ints.sinceSeconds !== undefined && ints.sinceSeconds < 1)
    errors.push({
      type: 'FieldValueInvalid',
      field: 'sinceSeconds',
      badValue: ints.sinceSeconds,
      detail: 'must be greater than 0',
    });
  const sinceTime = q.get('sinceTime');
  if (sinceTime !== null && sinceTime !== '' && ints.sinceSeconds !== undefined)
    errors.push({
      type: 'FieldValueInvalid',
      field: 'sinceSeconds',
      badValue: ints.sinceSeconds,
      detail: 'at most one of `sinceTime` or `sinceSeconds` may be specified',
    });
  if (errors.length > 0) throw invalid('PodLogOptions', '', '', errors);
  for (const k of INT_PARAMS) if (ints[k] !== undefined) out.set(k, String(ints[k]));
  if (sinceTime !== null && sinceTime !== '') out.set('sinceTime', sinceTime);
  return out;
}

async function readText(res: IncomingMessage, max = 64 * 1024): Promise<string> {
  const chunks: Buffer[] = [];
  let n = 0;
  for await (const c of res) {
    const b = c as Buffer;
    n += b.length;
    if (n <= max) chunks.push(b);
  }
  return Buffer.concat(chunks).toString().trim();
}

/** The API error for a kubelet's non-2xx answer (upstream's generic response checker). */
export function kubeletErrorStatus(code: number, text: string, pod: string): StatusError {
  if (code === 400) return badRequest(text);
  if (code === 404)
    return new StatusError({
      reason: 'NotFound',
      code: 404,
      message: text,
      details: { name: pod, kind: 'pods/log' },
    });
  if (code === 401 || code === 403)
    return new StatusError({
      reason: code === 401 ? 'Unauthorized' : 'Forbidden',
      code,
      message: text,
      details: {},
    });
  return internalError(text);
}

/** Serves `pods/log` by streaming the kubelet's answer. */
export async function handlePodLog(
  s: Scope,
  stores: StoreRegistry,
  kubelets: KubeletConnector,
): Promise<void> {
  const q = s.url.searchParams;
  const kubeletQuery = kubeletLogQuery(q);
  const target = await resolvePodTarget(
    stores,
    s.info.namespace,
    s.info.name,
    q.get('container') ?? '',
    'log',
  );
  if (target === undefined) {
    s.res.statusCode = 200;
    s.res.setHeader('Content-Type', 'text/plain');
    s.res.end();
    return;
  }
  const path =
    `/containerLogs/${encodeURIComponent(target.namespace)}/${encodeURIComponent(target.name)}/` +
    `${encodeURIComponent(target.container)}${kubeletQuery.size > 0 ? `?${kubeletQuery}` : ''}`;
  const where = `${target.kubelet.host}:${target.kubelet.port}`;
  const upstream = await new Promise<IncomingMessage>((resolve, reject) => {
    const req = https.request({ ...kubelets.tlsOptions(target.kubelet), method: 'GET', path, agent: false });
    req.once('response', resolve);
    req.once('error', (e) =>
      reject(
        serviceUnavailable(
          `the kubelet of node ${target.pod.spec?.nodeName ?? ''} (${where}) is not reachable: ${e.message}`,
        ),
      ),
    );
    s.signal.addEventListener('abort', () => req.destroy(), { once: true });
    req.end();
  });
  const code = upstream.statusCode ?? 500;
  if (code < 200 || code > 299) throw kubeletErrorStatus(code, await readText(upstream), target.name);
  s.res.statusCode = 200;
  s.res.setHeader('Content-Type', 'text/plain');
  const stop = (): void => void upstream.destroy();
  s.signal.addEventListener('abort', stop, { once: true });
  try {
    for await (const chunk of upstream) s.res.write(chunk as Buffer);
  } catch {
    // the kubelet or the client went away: end what was sent
  } finally {
    s.signal.removeEventListener('abort', stop);
    s.res.end();
  }
}
