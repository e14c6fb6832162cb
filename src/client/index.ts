// The client library of kts (client-go's role): every component other than the API server
// reaches the cluster only through this folder. It holds the Client contract
// (interface.ts) and its HTTP implementation (rest-client.ts) with a metadata-only view
// (metadata-client.ts), per-controller service-account clients, kubeconfig and in-cluster
// configuration, informers and listers (cache/), work queues (workqueue/), leader election
// on Leases, the event recorder, controller expectations, and test fakes (testing/).
// Objects handed out by caches are shared and must be treated as read-only.
export * from './backoff.js';
export * from './clock.js';
export * from './controller-client-builder.js';
export * from './event-correlator.js';
export * from './events.js';
export * from './expectations.js';
export * from './interface.js';
export * from './kubeconfig.js';
export * from './leader-election.js';
export * from './log.js';
export * from './metadata-client.js';
export * from './resource-client.js';
export * from './resources.js';
export * from './rest-client.js';
export * from './token-bucket.js';
