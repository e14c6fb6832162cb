// The raw CRI v1 gRPC connection: loads kts's own subset of the runtime.v1 proto, dials the
// runtime's unix socket, and turns each RPC into a promise of a plain decoded message.
// gRPC status codes become RuntimeError codes here, in one place, with messages that name
// the RPC and the socket so an operator knows which runtime refused what. The calls travel
// on ./grpc-unary.ts; proto-loader's generated codecs encode and decode the messages.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as protoLoader from '@grpc/proto-loader';
import { RuntimeError, type RuntimeErrorCode } from '../runtime.js';
import { GrpcCallError, GrpcStatus, grpcStatusName, UnaryChannel } from './grpc-unary.js';

/** A decoded protobuf message (proto-loader objects: snake_case keys, int64 as strings). */
export type Message = Record<string, unknown>;

/** Locates the .proto beside this module, or in src/ when running from a build in dist/. */
function protoPath(): string {
  const here = fileURLToPath(new URL('./runtime-v1.proto', import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = here.replace(/\/dist\/kubelet\//, '/src/kubelet/');
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`CRI proto not found at ${here}`);
}

/** One RPC's path and message codecs. */
interface MethodCodec {
  path: string;
  serialize: (m: Message) => Buffer;
  deserialize: (b: Buffer) => Message;
}

type ServiceName = 'RuntimeService' | 'ImageService';

let cachedMethods: Map<string, MethodCodec> | undefined;

/** Every unary RPC of the proto, keyed `Service/Method`. */
function methods(): Map<string, MethodCodec> {
  if (cachedMethods !== undefined) return cachedMethods;
  const def = protoLoader.loadSync(protoPath(), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    arrays: true,
    objects: true,
  });
  const out = new Map<string, MethodCodec>();
  for (const service of ['RuntimeService', 'ImageService'] as const) {
    const svc = def[`runtime.v1.${service}`];
    if (svc === undefined || 'format' in svc)
      throw new Error(`runtime.v1.${service} missing from the CRI proto`);
    for (const [name, m] of Object.entries(svc as protoLoader.ServiceDefinition)) {
      if (m.requestStream || m.responseStream) continue;
      out.set(`${service}/${name}`, {
        path: m.path,
        serialize: (msg) => m.requestSerialize(msg),
        deserialize: (b) => m.responseDeserialize(b) as Message,
      });
    }
  }
  cachedMethods = out;
  return out;
}

const codeNames: Partial<Record<number, RuntimeErrorCode>> = {
  [GrpcStatus.NOT_FOUND]: 'NotFound',
  [GrpcStatus.ALREADY_EXISTS]: 'AlreadyExists',
  [GrpcStatus.INVALID_ARGUMENT]: 'InvalidArgument',
  [GrpcStatus.FAILED_PRECONDITION]: 'InvalidArgument',
  [GrpcStatus.UNAVAILABLE]: 'Unavailable',
  [GrpcStatus.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
};

/** A gRPC failure: its status code and the peer's message. */
export interface GrpcFailure {
  code: number;
  details: string;
  message?: string;
}

/** Translates a gRPC failure of `method` into a RuntimeError. */
export function toRuntimeError(err: GrpcFailure, method: string, endpoint: string): RuntimeError {
  const code = codeNames[err.code] ?? 'Internal';
  const details = err.details || (err.message ?? '');
  if (err.code === GrpcStatus.UNAVAILABLE) {
    return new RuntimeError(code, `container runtime at ${endpoint} is unavailable (${method}): ${details}`);
  }
  if (err.code === GrpcStatus.UNIMPLEMENTED) {
    return new RuntimeError(
      code,
      `container runtime at ${endpoint} does not implement ${method} of CRI runtime.v1 (containerd >= 1.6 required): ${details}`,
    );
  }
  return new RuntimeError(code, `${method}: ${details}`, goStatusText(err.code, details));
}

/**
 * A gRPC failure as Go prints it (`rpc error: code = NotFound desc = …`); upstream's kubelet
 * drops the prefix for code Unknown, which adds nothing.
 */
function goStatusText(code: number, details: string): string {
  if (code === GrpcStatus.UNKNOWN) return details;
  const name = grpcStatusName(code) ?? 'Unknown';
  const camel =
    name === 'CANCELLED'
      ? 'Canceled'
      : name
          .toLowerCase()
          .split('_')
          .map((w) => (w[0] ?? '').toUpperCase() + w.slice(1))
          .join('');
  return `rpc error: code = ${camel} desc = ${details}`;
}

/** The socket path of `unix:///abs`, `unix:rel` or a bare path. */
export function socketPathOf(endpoint: string): string {
  if (endpoint.startsWith('unix://')) return endpoint.slice('unix://'.length);
  if (endpoint.startsWith('unix:')) return endpoint.slice('unix:'.length);
  return endpoint;
}

/** A connection to one CRI endpoint with both services. */
export class CriConnection {
  private readonly channel: UnaryChannel;

  /** `endpoint` is `unix:///path/to.sock` or a bare socket path. */
  constructor(
    readonly endpoint: string,
    private readonly defaultTimeoutMs = 120_000,
  ) {
    this.channel = new UnaryChannel(socketPathOf(endpoint), { maxReceiveBytes: 32 * 1024 * 1024 });
  }

  /** Calls a RuntimeService RPC. */
  runtimeCall(method: string, request: Message, timeoutMs?: number): Promise<Message> {
    return this.call('RuntimeService', method, request, timeoutMs);
  }

  /** Calls an ImageService RPC. */
  imageCall(method: string, request: Message, timeoutMs?: number): Promise<Message> {
    return this.call('ImageService', method, request, timeoutMs);
  }

  private async call(
    service: ServiceName,
    method: string,
    request: Message,
    timeoutMs?: number,
  ): Promise<Message> {
    const m = methods().get(`${service}/${method}`);
    if (m === undefined) throw new Error(`unknown CRI method ${method}`);
    let body: Buffer;
    try {
      body = m.serialize(request);
    } catch (e) {
      throw toRuntimeError(
        { code: GrpcStatus.INTERNAL, details: `Request message serialization failure: ${String(e)}` },
        method,
        this.endpoint,
      );
    }
    let reply: Buffer;
    try {
      reply = await this.channel.call(m.path, body, timeoutMs ?? this.defaultTimeoutMs);
    } catch (e) {
      if (e instanceof GrpcCallError) throw toRuntimeError(e, method, this.endpoint);
      throw e;
    }
    try {
      return m.deserialize(reply);
    } catch (e) {
      throw toRuntimeError(
        { code: GrpcStatus.INTERNAL, details: `Response message parsing error: ${String(e)}` },
        method,
        this.endpoint,
      );
    }
  }

  /** Closes the connection; calls in flight finish first. */
  close(): void {
    this.channel.close();
  }
}

/** Reads a string field ('' when absent). */
export function str(m: Message | undefined, key: string): string {
  const v = m?.[key];
  return typeof v === 'string' ? v : '';
}

/** Reads a numeric field (int32/uint32 as number, int64 as decimal string). */
export function num(m: Message | undefined, key: string): number {
  const v = m?.[key];
  if (typeof v === 'number') return v;
  if (typeof v === 'string' && v !== '') return Number(v);
  return 0;
}

/** Reads an int64 field as bigint. */
export function big(m: Message | undefined, key: string): bigint {
  const v = m?.[key];
  if (typeof v === 'string' && v !== '') return BigInt(v);
  if (typeof v === 'number') return BigInt(Math.trunc(v));
  return 0n;
}

/** Reads a nested message (undefined when absent). */
export function msg(m: Message | undefined, key: string): Message | undefined {
  const v = m?.[key];
  return v !== null && typeof v === 'object' && !Array.isArray(v) && !Buffer.isBuffer(v)
    ? (v as Message)
    : undefined;
}

/** Reads a repeated message field. */
export function list(m: Message | undefined, key: string): Message[] {
  const v = m?.[key];
  return Array.isArray(v) ? v.filter((x): x is Message => x !== null && typeof x === 'object') : [];
}

/** Reads a repeated string field. */
export function strings(m: Message | undefined, key: string): string[] {
  const v = m?.[key];
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

/** Reads a map<string,string> field. */
export function stringMap(m: Message | undefined, key: string): Record<string, string> {
  const v = msg(m, key);
  const out: Record<string, string> = {};
  if (v === undefined) return out;
  for (const [k, val] of Object.entries(v)) if (typeof val === 'string') out[k] = val;
  return out;
}

/** Reads a bytes field. */
export function bytes(m: Message | undefined, key: string): Buffer {
  const v = m?.[key];
  return Buffer.isBuffer(v) ? v : Buffer.alloc(0);
}
