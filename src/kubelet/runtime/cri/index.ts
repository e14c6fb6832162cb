// The `cri` runtime: kts's kubelet speaking CRI v1 gRPC to containerd (or any CRI runtime)
// over a unix socket. Contract: one RPC per runtime verb, errors as RuntimeError with a code,
// streaming calls turned into live streams through the runtime's own streaming server.

export { CriRuntime, type CriRuntimeOptions } from './cri-runtime.js';
export { CriConnection, toRuntimeError } from './grpc-client.js';
