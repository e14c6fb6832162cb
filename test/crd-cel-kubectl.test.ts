// CRD validation rules (x-kubernetes-validations) end to end with the real kubectl: a CRD
// with CEL rules is applied and its custom objects are validated on create and update
// (a cross-field rule with a message, an immutability transition rule, a messageExpression,
// a reason with fieldPath); a CRD whose rule does not compile is refused with upstream's
// message.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

const CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: scalers.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: scalers, singular: scaler, kind: Scaler}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.minReplicas <= self.replicas
              message: minReplicas must not exceed replicas
            - rule: "!has(self.mode) || self.mode in ['fast', 'slow']"
              messageExpression: "'unknown mode ' + self.mode"
            - rule: "!has(self.owner) || self.owner.size() > 0"
              reason: FieldValueRequired
              fieldPath: .owner
              message: owner must not be empty
            properties:
              replicas: {type: integer}
              minReplicas: {type: integer}
              mode: {type: string}
              owner: {type: string}
              storageClass:
                type: string
                x-kubernetes-validations:
                - rule: self == oldSelf
                  message: storageClass is immutable
`;

const BAD_CRD = `
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: brokens.cel.example.com
spec:
  group: cel.example.com
  scope: Namespaced
  names: {plural: brokens, singular: broken, kind: Broken}
  versions:
  - name: v1
    served: true
    storage: true
    schema:
      openAPIV3Schema:
        type: object
        properties:
          spec:
            type: object
            x-kubernetes-validations:
            - rule: self.replicas > foo
            properties:
              replicas: {type: integer}
`;

const scaler = (spec: string): string =>
  `apiVersion: cel.example.com/v1\nkind: Scaler\nmetadata: {name: s1, namespace: default}\nspec: ${spec}\n`;

let srv: TestApiServer;
let kubectl: Kubectl;

async function fails(args: string[], stdin: string): Promise<string> {
  const r = await kubectl.run(args, { stdin });
  assert.notEqual(r.code, 0, `kubectl ${args.join(' ')} should fail: ${r.stdout}`);
  return r.stderr;
}

before(async () => {
  srv = await startTestApiServer('memory://', ['default']);
  kubectl = new Kubectl(srv.server.kubeconfigPath);
  await kubectl.ok(['apply', '-f', '-'], { stdin: CRD });
  await kubectl.ok([
    'wait',
    '--for',
    'condition=established',
    'crd/scalers.cel.example.com',
    '--timeout=10s',
  ]);
});

after(async () => {
  kubectl.cleanup();
  await srv.stop();
});

describe('CRD validation rules with kubectl', () => {
  it('refuses a custom object that breaks a rule, with the rule message', async () => {
    const err = await fails(['apply', '-f', '-'], scaler('{replicas: 1, minReplicas: 3}'));
    assert.match(
      err,
      /The Scaler "s1" is invalid: spec: Invalid value: "object": minReplicas must not exceed replicas/,
    );
  });

  it('prints messageExpression and reason/fieldPath errors', async () => {
    const err = await fails(
      ['apply', '-f', '-'],
      scaler("{replicas: 1, minReplicas: 1, mode: turbo, owner: ''}"),
    );
    assert.match(err, /spec: Invalid value: "object": unknown mode turbo/);
    assert.match(err, /spec\.owner: Required value: owner must not be empty/);
  });

  it('enforces a transition rule on update only', async () => {
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: scaler('{replicas: 2, minReplicas: 1, storageClass: standard}'),
    });
    await kubectl.ok(['apply', '-f', '-'], {
      stdin: scaler('{replicas: 3, minReplicas: 1, storageClass: standard}'),
    });
    const err = await fails(
      ['apply', '-f', '-'],
      scaler('{replicas: 3, minReplicas: 1, storageClass: fast}'),
    );
    assert.match(
      err,
      /The Scaler "s1" is invalid: spec\.storageClass: Invalid value: "string": storageClass is immutable/,
    );
  });

  it('refuses a CRD whose rule does not compile', async () => {
    const err = await fails(['apply', '-f', '-'], BAD_CRD);
    assert.match(
      err,
      /The CustomResourceDefinition "brokens\.cel\.example\.com" is invalid: spec\.validation\.openAPIV3Schema\.properties\[spec\]\.x-kubernetes-validations\[0\]\.rule: Invalid value: apiextensions\.ValidationRule\{Rule:"self\.replicas > foo", Message:"", MessageExpression:"", Reason:\(\*apiextensions\.FieldValueErrorReason\)\(nil\), FieldPath:"", OptionalOldSelf:\(\*bool\)\(nil\)\}: compilation failed: ERROR: <input>:1:17: undeclared reference to 'foo' \(in container ''\)/,
    );
  });
});
