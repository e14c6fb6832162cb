// Hollow nodes (kubemark/kwok's role): simulated Nodes that register, keep their Leases and
// status fresh, and play the kubelet for pods bound to them by following a stage table
// (simulation as data), so controllers, the scheduler and scale tests run without real
// machines. Only the API is used; nothing here starts containers or touches the network.
export * from './heartbeat.js';
export * from './hollow-nodes.js';
export * from './stages.js';
export * from './templates.js';
