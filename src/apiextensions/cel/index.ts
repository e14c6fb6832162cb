// Contract of the CEL folder: a CEL implementation sufficient for CRD validation rules
// (x-kubernetes-validations) with upstream 1.32's behaviour and messages. The language
// (lexer, parser with macros, type checker, interpreter with cel-go's error/absorption
// semantics and a runtime cost limit), the standard functions and the Kubernetes libraries
// (lists, strings, regex, url, quantity, ip/cidr, sets, optionals) live here; the schema
// machinery calls compileCelValidator when it compiles a CRD version and celRuleErrors when
// it validates a CRD's schema.
export { CompileError, issuesString } from './ast.js';
export { celRuleErrors } from './rule-compiler.js';
export { compileExpression, type Program, runProgram } from './program.js';
export { schemaType } from './types.js';
export { type CelValidator, compileCelValidator, PER_CALL_LIMIT, RUNTIME_COST_BUDGET } from './validator.js';
export { fromJSON } from './values.js';
