// RBAC and Node authorization for the API server. Contract: `createRBACAuthorizer(stores)`
// returns the Node+RBAC authorizer (upstream order) deciding from the server's own watch
// caches, never through HTTP; `ensureBootstrapPolicy(stores)` writes the default roles and
// bindings at start; `startClusterRoleAggregation(stores)` keeps aggregated ClusterRoles
// (admin, edit, view, …) current; `RBACEscalationPlugin` is the validating admission plugin
// that refuses role and binding writes granting more than the writer holds.
export { aggregatedRules, ClusterRoleAggregator, startClusterRoleAggregation } from './aggregation.js';
export {
  type NonResourceRule,
  RBACAuthorizer,
  type ResourceRule,
  type RulesReview,
  subjectKeysOf,
  toRulesReview,
} from './authorizer.js';
export {
  clusterRoleBindings,
  clusterRoles,
  namespaceRoleBindings,
  namespaceRoles,
  nodeRules,
} from './bootstrap-policy.js';
export { createRBACAuthorizer, type RBACChain } from './chain.js';
export { ensureBootstrapPolicy } from './ensure-policy.js';
export { escalationError, RBACEscalationPlugin } from './escalation.js';
export { NodeAuthorizer, type NodeAuthzAttributes, nodeIdentity } from './node-authorizer.js';
export { NodeGraph } from './node-graph.js';
export { ruleAllows, rulesAllow } from './rules.js';
