// autoscaling/v1 HorizontalPodAutoscalers, served by conversion over the stored
// autoscaling/v2 objects. kts serves one version per resource (see served.ts), but
// `kubectl autoscale` (1.32) posts autoscaling/v1 with a typed client, so that one old
// version is answered here: the body is converted to v2 before the usual handlers run and
// every object in the answer (object, list, watch event) is converted back. As upstream,
// v2 content v1 cannot hold (other metrics, conditions, current metrics, behavior) rides
// in `autoscaling.alpha.kubernetes.io/*` annotations, so a v1 round trip loses nothing.
// Not served at v1: patch (a v1-shaped patch cannot be applied to the v2 object here).
import type { RequestInfo } from './request-info.js';
import type { RawRequest, RawResponse } from './http.js';
import { readBody } from './http.js';
import { decodeObjectBody } from './endpoints/decode.js';

const V1 = 'autoscaling/v1';
const V2 = 'autoscaling/v2';

/** Annotations that carry v2-only content through a v1 object (upstream's names). */
export const HPA_V1_ANNOTATIONS = {
  metrics: 'autoscaling.alpha.kubernetes.io/metrics',
  currentMetrics: 'autoscaling.alpha.kubernetes.io/current-metrics',
  conditions: 'autoscaling.alpha.kubernetes.io/conditions',
  behavior: 'autoscaling.alpha.kubernetes.io/behavior',
} as const;

type Obj = Record<string, unknown>;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function obj(v: unknown): Obj {
  return isObj(v) ? v : {};
}

function isCpuUtilization(m: unknown, target: 'target' | 'current'): boolean {
  const r = obj(obj(m).resource);
  return obj(m).type === 'Resource' && r.name === 'cpu' && obj(r[target]).averageUtilization !== undefined;
}

function parseAnnotation(annotations: Obj, key: string): unknown[] | Obj | undefined {
  const raw = annotations[key];
  delete annotations[key];
  if (typeof raw !== 'string') return undefined;
  try {
    const v: unknown = JSON.parse(raw);
    return Array.isArray(v) || isObj(v) ? v : undefined;
  } catch {
    return undefined;
  }
}

/** True when a request addresses autoscaling/v1 HorizontalPodAutoscalers. */
export function isHpaV1Request(info: RequestInfo): boolean {
  return (
    info.apiGroup === 'autoscaling' &&
    info.apiVersion === 'v1' &&
    info.resource === 'horizontalpodautoscalers'
  );
}

/** Converts an autoscaling/v1 HorizontalPodAutoscaler to autoscaling/v2. */
export function hpaV1ToV2(v1: Obj): Obj {
  const metadata = { ...obj(v1.metadata) };
  const annotations = { ...obj(metadata.annotations) };
  const spec = obj(v1.spec);
  const status = obj(v1.status);
  const otherMetrics = parseAnnotation(annotations, HPA_V1_ANNOTATIONS.metrics);
  const currentMetrics = parseAnnotation(annotations, HPA_V1_ANNOTATIONS.currentMetrics);
  const conditions = parseAnnotation(annotations, HPA_V1_ANNOTATIONS.conditions);
  const behavior = parseAnnotation(annotations, HPA_V1_ANNOTATIONS.behavior);
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;
  else delete metadata.annotations;

  const metrics: unknown[] = Array.isArray(otherMetrics) ? [...otherMetrics] : [];
  if (typeof spec.targetCPUUtilizationPercentage === 'number') {
    metrics.push({
      type: 'Resource',
      resource: {
        name: 'cpu',
        target: { type: 'Utilization', averageUtilization: spec.targetCPUUtilizationPercentage },
      },
    });
  }
  const v2Spec: Obj = {};
  if (spec.scaleTargetRef !== undefined) v2Spec.scaleTargetRef = spec.scaleTargetRef;
  if (spec.minReplicas !== undefined) v2Spec.minReplicas = spec.minReplicas;
  if (spec.maxReplicas !== undefined) v2Spec.maxReplicas = spec.maxReplicas;
  if (metrics.length > 0) v2Spec.metrics = metrics;
  if (isObj(behavior)) v2Spec.behavior = behavior;

  const v2Status: Obj = {};
  for (const f of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas']) {
    if (status[f] !== undefined) v2Status[f] = status[f];
  }
  const current: unknown[] = Array.isArray(currentMetrics) ? [...currentMetrics] : [];
  if (typeof status.currentCPUUtilizationPercentage === 'number') {
    current.push({
      type: 'Resource',
      resource: { name: 'cpu', current: { averageUtilization: status.currentCPUUtilizationPercentage } },
    });
  }
  if (current.length > 0) v2Status.currentMetrics = current;
  if (Array.isArray(conditions)) v2Status.conditions = conditions;

  const out: Obj = { ...v1, apiVersion: V2, kind: 'HorizontalPodAutoscaler', metadata, spec: v2Spec };
  if (v1.status !== undefined) out.status = v2Status;
  return out;
}

/** Converts an autoscaling/v2 HorizontalPodAutoscaler to autoscaling/v1. */
export function hpaV2ToV1(v2: Obj): Obj {
  const metadata = { ...obj(v2.metadata) };
  const annotations = { ...obj(metadata.annotations) };
  const spec = obj(v2.spec);
  const status = obj(v2.status);
  const metrics = Array.isArray(spec.metrics) ? spec.metrics : [];
  const cpu = metrics.find((m) => isCpuUtilization(m, 'target'));
  const others = metrics.filter((m) => m !== cpu);
  if (others.length > 0) annotations[HPA_V1_ANNOTATIONS.metrics] = JSON.stringify(others);
  if (isObj(spec.behavior)) annotations[HPA_V1_ANNOTATIONS.behavior] = JSON.stringify(spec.behavior);
  const currentMetrics = Array.isArray(status.currentMetrics) ? status.currentMetrics : [];
  const currentCpu = currentMetrics.find((m) => isCpuUtilization(m, 'current'));
  const otherCurrent = currentMetrics.filter((m) => m !== currentCpu);
  if (otherCurrent.length > 0) annotations[HPA_V1_ANNOTATIONS.currentMetrics] = JSON.stringify(otherCurrent);
  if (Array.isArray(status.conditions) && status.conditions.length > 0)
    annotations[HPA_V1_ANNOTATIONS.conditions] = JSON.stringify(status.conditions);
  if (Object.keys(annotations).length > 0) metadata.annotations = annotations;

  const v1Spec: Obj = {};
  if (spec.scaleTargetRef !== undefined) v1Spec.scaleTargetRef = spec.scaleTargetRef;
  if (spec.minReplicas !== undefined) v1Spec.minReplicas = spec.minReplicas;
  if (spec.maxReplicas !== undefined) v1Spec.maxReplicas = spec.maxReplicas;
  const target = obj(obj(obj(cpu).resource).target).averageUtilization;
  if (typeof target === 'number') v1Spec.targetCPUUtilizationPercentage = target;

  const v1Status: Obj = {};
  for (const f of ['observedGeneration', 'lastScaleTime', 'currentReplicas', 'desiredReplicas']) {
    if (status[f] !== undefined) v1Status[f] = status[f];
  }
  // v1 requires desiredReplicas; v2 status may be empty before the first sync.
  v1Status.currentReplicas ??= 0;
  v1Status.desiredReplicas ??= 0;
  const currentUtil = obj(obj(obj(currentCpu).resource).current).averageUtilization;
  if (typeof currentUtil === 'number') v1Status.currentCPUUtilizationPercentage = currentUtil;

  return { ...v2, apiVersion: V1, kind: 'HorizontalPodAutoscaler', metadata, spec: v1Spec, status: v1Status };
}

// Converts whatever a handler answered: an HPA, a list of them, a watch event; a Status, a
// Table or a metadata-only answer passes unchanged.
function convertAnswer(v: unknown): unknown {
  if (!isObj(v)) return v;
  if (v.kind === 'HorizontalPodAutoscaler' && v.apiVersion === V2) return hpaV2ToV1(v);
  if (v.kind === 'HorizontalPodAutoscalerList' && v.apiVersion === V2) {
    const items = Array.isArray(v.items) ? v.items : [];
    return {
      ...v,
      apiVersion: V1,
      items: items.map((i) => (isObj(i) ? hpaV2ToV1({ ...i, apiVersion: V2 }) : i)),
    };
  }
  if (typeof v.type === 'string' && isObj(v.object) && Object.keys(v).length === 2) {
    return { type: v.type, object: convertAnswer(v.object) };
  }
  return v;
}

function convertJSONText(text: string): string {
  try {
    return JSON.stringify(convertAnswer(JSON.parse(text)));
  } catch {
    return text;
  }
}

// Watch answers stream one JSON event per line; anything else is buffered to the end.
function convertingResponse(res: RawResponse, watch: boolean): RawResponse {
  const chunks: Buffer[] = [];
  const toBuf = (c: string | Uint8Array): Buffer =>
    typeof c === 'string' ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);
  let pending = '';
  const convertLines = (text: string): string => {
    pending += text;
    const cut = pending.lastIndexOf('\n');
    if (cut < 0) return '';
    const lines = pending.slice(0, cut + 1);
    pending = pending.slice(cut + 1);
    return lines
      .split('\n')
      .map((l) => (l.trim() === '' ? l : convertJSONText(l)))
      .join('\n');
  };
  return {
    get statusCode() {
      return res.statusCode;
    },
    set statusCode(code: number) {
      res.statusCode = code;
    },
    get headersSent() {
      return res.headersSent;
    },
    get writableLength() {
      return res.writableLength;
    },
    setHeader: (name, value) => {
      // The converted body has another length.
      if (name.toLowerCase() === 'content-length') return res;
      return res.setHeader(name, value);
    },
    on: (event, listener) => res.on(event, listener),
    write: (chunk) => {
      if (!watch) {
        chunks.push(toBuf(chunk));
        return true;
      }
      const out = convertLines(toBuf(chunk).toString('utf8'));
      return out === '' ? true : res.write(out);
    },
    end: (chunk) => {
      if (watch) {
        const lines = chunk === undefined ? '' : convertLines(toBuf(chunk).toString('utf8'));
        const tail = pending.trim() === '' ? pending : convertJSONText(pending);
        pending = '';
        const out = lines + tail;
        return res.end(out === '' ? undefined : out);
      }
      if (chunk !== undefined) chunks.push(toBuf(chunk));
      const text = Buffer.concat(chunks).toString('utf8');
      return res.end(text === '' ? undefined : convertJSONText(text));
    },
  };
}

function requestOf(base: RawRequest, body: Buffer, contentType: string): RawRequest {
  return {
    method: base.method,
    url: base.url,
    headers: { ...base.headers, 'content-type': contentType, 'content-length': String(body.length) },
    async *[Symbol.asyncIterator]() {
      yield body;
    },
  };
}

/** What the v2 handlers see for a v1 request: the request info, request and response to use. */
export interface ConvertedRequest {
  info: RequestInfo;
  req: RawRequest;
  res: RawResponse;
}

/**
 * Prepares an autoscaling/v1 HPA request for the autoscaling/v2 handlers: converts a
 * create or update body, asks for JSON (protobuf is never served) and converts the answer.
 */
export async function convertHpaV1Request(
  info: RequestInfo,
  req: RawRequest,
  res: RawResponse,
): Promise<ConvertedRequest> {
  let inner = req;
  if (
    (info.verb === 'create' || info.verb === 'update') &&
    (info.subresource === '' || info.subresource === 'status')
  ) {
    const body = await readBody(req);
    const { obj: v1 } = decodeObjectBody(req.headers['content-type'], body, 'HorizontalPodAutoscaler');
    const v2 = v1.apiVersion === V1 || v1.apiVersion === undefined ? hpaV1ToV2(v1 as Obj) : (v1 as Obj);
    inner = requestOf(req, Buffer.from(JSON.stringify(v2)), 'application/json');
  }
  return {
    info: { ...info, apiVersion: 'v2' },
    req: inner,
    res: convertingResponse(res, info.verb === 'watch'),
  };
}

/** An HPA handler's JSON answer (object, list or watch event) as a v1 client reads it. */
export function convertHpaAnswerText(text: string): string {
  return convertJSONText(text);
}
