// The raw CRI v1 gRPC connection: loads kts's own subset of the runtime.v1 proto, dials the
// runtime's unix socket, and turns each RPC into a promise of a plain decoded message.
// gRPC status codes become RuntimeError codes here, in one place, with messages that name
// the RPC and the socket so an operator knows which runtime refused what.

import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { RuntimeError, type RuntimeErrorCode } from '../runtime.js';

/** A decoded protobuf message (proto-loader objects: snake_case keys, int64 as strings). */
export type Message = Record<string, unknown>;

type UnaryMethod = (
  request: Message,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Message) => void,
) => void;

/** Locates the .proto beside this module, or in src/ when running from a build in dist/. */
function protoPath(): string {
  const here = fileURLToPath(new URL('./runtime-v1.proto', import.meta.url));
  if (existsSync(here)) return here;
  const fromDist = here.replace(/\/dist\/kubelet\//, '/src/kubelet/');
  if (existsSync(fromDist)) return fromDist;
  throw new Error(`CRI proto not found at ${here}`);
}

let cachedPackage: grpc.GrpcObject | undefined;

function runtimePackage(): grpc.GrpcObject {
  if (cachedPackage === undefined) {
    const def = protoLoader.loadSync(protoPath(), {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      arrays: true,
      objects: true,
    });
    cachedPackage = grpc.loadPackageDefinition(def);
  }
  return cachedPackage;
}

function serviceConstructor(name: 'RuntimeService' | 'ImageService'): grpc.ServiceClientConstructor {
  const runtime = runtimePackage().runtime;
  const v1 =
    runtime !== undefined && typeof runtime === 'object' ? (runtime as grpc.GrpcObject).v1 : undefined;
  const ctor = v1 !== undefined && typeof v1 === 'object' ? (v1 as grpc.GrpcObject)[name] : undefined;
  if (typeof ctor !== 'function') throw new Error(`runtime.v1.${name} missing from the CRI proto`);
  return ctor as grpc.ServiceClientConstructor;
}

const codeNames: Partial<Record<number, RuntimeErrorCode>> = {
  [grpc.status.NOT_FOUND]: 'NotFound',
  [grpc.status.ALREADY_EXISTS]: 'AlreadyExists',
  [grpc.status.INVALID_ARGUMENT]: 'InvalidArgument',
  [grpc.status.FAILED_PRECONDITION]: 'InvalidArgument',
  [grpc.status.UNAVAILABLE]: 'Unavailable',
  [grpc.status.DEADLINE_EXCEEDED]: 'DeadlineExceeded',
};

/** Translates a gRPC failure of `method` into a RuntimeError. */
export function toRuntimeError(err: grpc.ServiceError, method: string, endpoint: string): RuntimeError {
  const code = codeNames[err.code] ?? 'Internal';
  const details = err.details || err.message;
  if (err.code === grpc.status.UNAVAILABLE) {
    return new RuntimeError(code, `container runtime at ${endpoint} is unavailable (${method}): ${details}`);
  }
  if (err.code === grpc.status.UNIMPLEMENTED) {
    return new RuntimeError(
      code,
      `container runtime at ${endpoint} does not implement ${method} of CRI runtime.v1 (containerd >= 1.6 required): ${details}`,
    );
  }
  return new RuntimeError(code, `${method}: ${details}`);
}

/** A connection to one CRI endpoint with both services. */
export class CriConnection {
  private readonly runtime: grpc.Client;
  private readonly images: grpc.Client;

  /** `endpoint` is `unix:///path/to.sock` or a bare socket path. */
  constructor(
    readonly endpoint: string,
    private readonly defaultTimeoutMs = 120_000,
  ) {
    const address = endpoint.startsWith('unix:') ? endpoint : `unix://${endpoint}`;
    const creds = grpc.credentials.createInsecure();
    const options = { 'grpc.max_receive_message_length': 32 * 1024 * 1024 };
    this.runtime = new (serviceConstructor('RuntimeService'))(address, creds, options);
    this.images = new (serviceConstructor('ImageService'))(address, creds, options);
  }

  /** Calls a RuntimeService RPC. */
  runtimeCall(method: string, request: Message, timeoutMs?: number): Promise<Message> {
    return this.call(this.runtime, method, request, timeoutMs);
  }

  /** Calls an ImageService RPC. */
  imageCall(method: string, request: Message, timeoutMs?: number): Promise<Message> {
    return this.call(this.images, method, request, timeoutMs);
  }

  private call(client: grpc.Client, method: string, request: Message, timeoutMs?: number): Promise<Message> {
    const fn = (client as unknown as Record<string, unknown>)[method];
    if (typeof fn !== 'function') return Promise.reject(new Error(`unknown CRI method ${method}`));
    const deadline = new Date(Date.now() + (timeoutMs ?? this.defaultTimeoutMs));
    return new Promise((resolve, reject) => {
      (fn as UnaryMethod).call(client, request, new grpc.Metadata(), { deadline }, (err, response) => {
        if (err) reject(toRuntimeError(err, method, this.endpoint));
        else resolve(response ?? {});
      });
    });
  }

  /** Closes both channels. */
  close(): void {
    this.runtime.close();
    this.images.close();
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
