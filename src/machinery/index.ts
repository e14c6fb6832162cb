// API machinery shared by every layer of kts, behaving as k8s.io/apimachinery: the one API
// error type (StatusError), label and field selectors, resource.Quantity, IntOrString, Go
// durations and kubectl ages, owner references, object-meta helpers and the shared name
// rules. Modules here depend on nothing outside this folder, hold no state and do no I/O,
// and reproduce upstream's accepted inputs, canonical forms and error messages exactly.
// Import from the concept's module directly; the namespaces below are for convenience.

export * as duration from './duration.js';
export * as fields from './fields/index.js';
export * as intstr from './intstr.js';
export * as labels from './labels/index.js';
export * as objectMeta from './object-meta.js';
export * as ownerReferences from './owner-references.js';
export * as quantity from './quantity.js';
export * from './status-error.js';
export * as names from './validation/names.js';
