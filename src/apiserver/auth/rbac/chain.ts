// The API server's authorizer in upstream's order for `--authorization-mode=Node,RBAC`: the
// Node authorizer answers for node identities, then RBAC. The first allow wins; when nobody
// allows, the reasons of every authorizer are joined with newlines (upstream's union), so a
// node's 403 says why the graph refused it.
import type { Authorizer, Decision } from '../../endpoints/reviews.js';
import type { UserInfo } from '../../endpoints/scope.js';
import type { StoreRegistry } from '../../stores.js';
import { aggregateMessages, RBACAuthorizer, type RulesReview, toRulesReview } from './authorizer.js';
import { NodeAuthorizer, type NodeAuthzAttributes, nodeIdentity } from './node-authorizer.js';
import { NodeGraph } from './node-graph.js';

/** The Node+RBAC authorizer the API server uses, with its parts exposed for admission. */
export interface RBACChain extends Authorizer {
  /** The RBAC part (rule resolution for escalation checks). */
  readonly rbac: RBACAuthorizer;
  /** The Node part. */
  readonly node: NodeAuthorizer;
  /** Decides; `fieldSelector` (when the server passes it) lets nodes list only their pods. */
  authorize(a: NodeAuthzAttributes): Decision;
  rulesFor(user: UserInfo, namespace: string): RulesReview;
  /** Resolves once every change committed before the call is reflected in decisions. */
  synced(): Promise<void>;
  /** Stops following the caches. */
  close(): void;
}

class Chain implements RBACChain {
  constructor(
    readonly rbac: RBACAuthorizer,
    readonly node: NodeAuthorizer,
    private readonly graph: NodeGraph,
  ) {}

  authorize(a: NodeAuthzAttributes): Decision {
    const reasons: string[] = [];
    for (const authz of [this.node, this.rbac]) {
      const d = authz.authorize(a);
      if (d.allowed || d.denied) return d;
      if (d.reason !== '') reasons.push(d.reason);
    }
    return { allowed: false, reason: reasons.join('\n') };
  }

  rulesFor(user: UserInfo, namespace: string): RulesReview {
    const { rules, errors } = this.rbac.policyRulesFor(user, namespace);
    const review = toRulesReview(rules);
    const allErrors: string[] = [];
    if (nodeIdentity(user) !== undefined) {
      // Nodes' permissions depend on the graph and cannot be listed.
      review.incomplete = true;
      allErrors.push('node authorizer does not support user rule resolution');
    }
    allErrors.push(...errors);
    if (allErrors.length > 0) review.evaluationError = aggregateMessages(allErrors);
    return review;
  }

  async synced(): Promise<void> {
    await Promise.all([this.rbac.synced(), this.graph.synced()]);
  }

  close(): void {
    this.rbac.close();
    this.graph.close();
  }
}

/**
 * Builds the Node+RBAC authorizer over the server's watch caches and waits until its
 * indexes hold the current roles, bindings and pods.
 */
export async function createRBACAuthorizer(stores: StoreRegistry): Promise<RBACChain> {
  const rbac = new RBACAuthorizer(stores);
  const graph = new NodeGraph(stores);
  try {
    await Promise.all([rbac.start(), graph.start()]);
  } catch (err) {
    rbac.close();
    graph.close();
    throw err;
  }
  return new Chain(rbac, new NodeAuthorizer(graph), graph);
}
