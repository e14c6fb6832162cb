// CEL in admission (upstream plugin/cel and webhook/matchconditions), shared by admission
// webhooks' matchConditions and ValidatingAdmissionPolicy: expressions are compiled once
// against the admission variables (`object`, `oldObject`, `request`, `params`,
// `namespaceObject`, `variables`, `authorizer`, all typed dyn), evaluated with the per-call
// cost limit, and their errors worded as upstream's filter words them
// (`expression '<src>' resulted in error: <err>`). Match conditions follow upstream's
// matcher: any condition that is false skips the request, even beside errors; errors with
// no false condition follow the failure policy.
import { CompileError } from '../../apiextensions/cel/ast.js';
import { compileExpression, type Program, runProgram } from '../../apiextensions/cel/program.js';
import { type CelType, T } from '../../apiextensions/cel/types.js';
import { PER_CALL_LIMIT } from '../../apiextensions/cel/validator.js';
import { dynFromJSON, type Val } from '../../apiextensions/cel/values.js';
import type { KObject } from '../registry/object.js';
import type { AdmissionRequest } from './types.js';
import { admissionReview } from './webhook-client.js';

// Every variable an admission expression may name.
const VARIABLES: ReadonlyMap<string, CelType> = new Map(
  ['object', 'oldObject', 'request', 'params', 'namespaceObject', 'variables', 'authorizer'].map((n) => [
    n,
    T.dyn,
  ]),
);

/** One expression, compiled or with the reason it does not compile. */
export interface CompiledExpression {
  source: string;
  program?: Program;
  error?: string;
}

/** The result of one expression: a value, or the error text upstream reports. */
export type Outcome = { value: Val } | { error: string };

const cache = new Map<string, CompiledExpression>();

/** Compiles an expression (memoized by source: the environment never changes). */
export function compileAdmissionExpression(source: string): CompiledExpression {
  let c = cache.get(source);
  if (c === undefined) {
    try {
      c = { source, program: compileExpression(source, VARIABLES) };
    } catch (e) {
      c = { source, error: `compilation failed: ${e instanceof CompileError ? e.message : String(e)}` };
    }
    // Sources come from cluster objects; a bound keeps a churn of policies from growing it.
    if (cache.size > 4096) cache.clear();
    cache.set(source, c);
  }
  return c;
}

/** Evaluates a compiled expression; errors come back as upstream's text, never thrown. */
export function runAdmissionExpression(c: CompiledExpression, vars: ReadonlyMap<string, Val>): Outcome {
  if (c.program === undefined) return { error: c.error ?? 'compilation failed' };
  const r = runProgram(c.program, vars, PER_CALL_LIMIT);
  if (r.error !== undefined)
    return { error: `expression '${c.source}' resulted in error: ${r.error.message}` };
  return { value: r.value ?? null };
}

/** The variables every admission expression sees for one request. */
export function admissionVariables(req: AdmissionRequest, namespaceObject?: KObject): Map<string, Val> {
  const review = admissionReview(req).request as Record<string, unknown>;
  delete review.object;
  delete review.oldObject;
  return new Map<string, Val>([
    ['object', req.object === undefined ? null : dynFromJSON(req.object)],
    ['oldObject', req.oldObject === undefined ? null : dynFromJSON(req.oldObject)],
    ['request', dynFromJSON(review)],
    ['params', null],
    ['namespaceObject', namespaceObject === undefined ? null : dynFromJSON(namespaceObject)],
    ['authorizer', null],
  ]);
}

/** The verdict of match conditions: matches, or an error under failurePolicy Fail. */
export type MatchVerdict = { matches: boolean } | { error: string };

/** Upstream's matchconditions.Matcher over named conditions. */
export function evaluateMatchConditions(
  conditions: readonly { expression: string }[],
  vars: ReadonlyMap<string, Val>,
  failurePolicy: string | undefined,
): MatchVerdict {
  const errors: string[] = [];
  for (const c of conditions) {
    const out = runAdmissionExpression(compileAdmissionExpression(c.expression), vars);
    if ('error' in out) errors.push(out.error);
    else if (out.value === false) return { matches: false };
  }
  if (errors.length === 0) return { matches: true };
  if ((failurePolicy ?? 'Fail') === 'Ignore') return { matches: false };
  // utilerrors.NewAggregate: one error prints alone, several as a bracketed list.
  return { error: errors.length === 1 ? errors[0]! : `[${errors.join(', ')}]` };
}
