// Admission: the built-in plugins of a default upstream API server in upstream's order
// (NamespaceLifecycle … ValidatingAdmissionWebhook) behind one chain. The server builds the
// chain once with `createAdmissionChain(stores)` and hands `chain.hooksFor(attributes)` to
// the Store on every write; plugins read cluster state only through the StoreRegistry and
// deny by throwing StatusErrors carrying upstream's messages.
export {
  type AdmissionAttributes,
  type AdmissionChain,
  type AdmissionChainOptions,
  chainOf,
  createAdmissionChain,
  DEFAULT_PLUGIN_ORDER,
  type PluginName,
} from './chain.js';
export { ensureBuiltinPriorityClasses } from './priority.js';
export type {
  AdmissionOperation,
  AdmissionPlugin,
  AdmissionRequest,
  MutatingPlugin,
  ValidatingPlugin,
} from './types.js';
