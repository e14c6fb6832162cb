// ValidatingAdmissionPolicy through the real kubectl, compared with what upstream 1.32 prints:
// Deny with a message, with a messageExpression and without either (`failed expression: …`),
// the Invalid-shaped error `kubectl apply` prints, Warn as a warning, params from a
// ConfigMap (and `Deny` when they are missing), matchConditions, a binding's matchResources,
// failurePolicy on an expression error, subresources the rules do not name, the defaults
// a stored policy gets, and policies refused at write time for CEL that does not compile or
// has the wrong type.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestApiServer, type TestApiServer } from './helpers/apiserver.js';
import { Kubectl } from './helpers/kubectl.js';

let api: TestApiServer;
let k: Kubectl;

before(async () => {
  api = await startTestApiServer(undefined, ['default', 'vap']);
  k = new Kubectl(api.server.kubeconfigPath);
  await k.ok(['create', 'namespace', 'vap']);
  await k.ok(['label', 'ns', 'vap', 'env=test']);
});

after(async () => {
  k.cleanup();
  await api.stop();
});

const DEPLOYMENTS = `matchConstraints:
    resourceRules:
    - apiGroups: ["apps"]
      apiVersions: ["v1"]
      operations: ["CREATE", "UPDATE"]
      resources: ["deployments"]`;

function policy(name: string, body: string): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata:
  name: ${name}
spec:
  ${body}
`;
}

function binding(name: string, policyName: string, extra = 'validationActions: [Deny]'): string {
  return `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicyBinding
metadata:
  name: ${name}
spec:
  policyName: ${policyName}
  ${extra}
`;
}

function deployment(name: string, replicas: number, ns = 'vap'): string {
  return `apiVersion: apps/v1
kind: Deployment
metadata:
  name: ${name}
  namespace: ${ns}
spec:
  replicas: ${replicas}
  selector:
    matchLabels: {app: ${name}}
  template:
    metadata:
      labels: {app: ${name}}
    spec:
      containers:
      - name: c
        image: kts.local/busybox:latest
`;
}

async function install(manifest: string): Promise<void> {
  await k.ok(['apply', '-f', '-'], { stdin: manifest });
}

async function remove(kind: string, ...names: string[]): Promise<void> {
  await k.ok(['delete', kind, ...names]);
}

describe('ValidatingAdmissionPolicy', () => {
  it('denies with the message, messageExpression or failed expression, as upstream words it', async () => {
    await install(
      `${policy(
        'max-replicas',
        `${DEPLOYMENTS}
  validations:
  - expression: "object.spec.replicas <= 5"
    message: "replicas must be no more than 5"
  - expression: "object.metadata.name != 'forbidden'"
  - expression: "!object.metadata.name.startsWith('x-')"
    messageExpression: "'name ' + object.metadata.name + ' is reserved'"
    reason: Forbidden`,
      )}---\n${binding('max-replicas-binding', 'max-replicas')}`,
    );
    let r = await k.run(['-n', 'vap', 'create', 'deployment', 'big', '--image=nginx', '--replicas=10']);
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `error: failed to create deployment: deployments.apps "big" is forbidden: ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: replicas must be no more than 5`,
    );
    // kubectl apply sees reason Invalid and prints the Status as an invalid object.
    r = await k.run(['apply', '-f', '-'], { stdin: deployment('big', 7) });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr.trim(),
      `The deployments "big" is invalid: : ValidatingAdmissionPolicy 'max-replicas' with binding 'max-replicas-binding' denied request: replicas must be no more than 5`,
    );
    r = await k.run(['-n', 'vap', 'create', 'deployment', 'forbidden', '--image=nginx']);
    assert.match(r.stderr, /denied request: failed expression: object\.metadata\.name != 'forbidden'\n$/);
    r = await k.run(['-n', 'vap', 'create', 'deployment', 'x-one', '--image=nginx']);
    assert.match(r.stderr, /denied request: name x-one is reserved\n$/);
    // Allowed objects pass; the scale subresource is not a rule's resource.
    await k.ok(['apply', '-f', '-'], { stdin: deployment('small', 2) });
    assert.equal(
      (await k.ok(['-n', 'vap', 'scale', 'deployment', 'small', '--replicas=9'])).trim(),
      'deployment.apps/small scaled',
    );
    // An update is checked too.
    r = await k.run(['-n', 'vap', 'patch', 'deployment', 'small', '-p', '{"spec":{"replicas":6}}']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /denied request: replicas must be no more than 5/);
    await remove('validatingadmissionpolicybinding', 'max-replicas-binding');
    await k.ok(['-n', 'vap', 'create', 'deployment', 'big', '--image=nginx', '--replicas=10']);
    await remove('validatingadmissionpolicy', 'max-replicas');
  });

  it('warns under the Warn action and lets the request through', async () => {
    await install(
      `${policy(
        'labelled',
        `${DEPLOYMENTS}
  validations:
  - expression: "has(object.metadata.labels) && 'team' in object.metadata.labels"
    message: "deployments should carry a team label"`,
      )}---\n${binding('labelled-binding', 'labelled', 'validationActions: [Warn, Audit]')}`,
    );
    const r = await k.run(['-n', 'vap', 'create', 'deployment', 'warned', '--image=nginx']);
    assert.equal(r.code, 0);
    assert.equal(r.stdout.trim(), 'deployment.apps/warned created');
    assert.equal(
      r.stderr.trim(),
      `Warning: Validation failed for ValidatingAdmissionPolicy 'labelled' with binding 'labelled-binding': deployments should carry a team label`,
    );
    await remove('validatingadmissionpolicybinding', 'labelled-binding');
    await remove('validatingadmissionpolicy', 'labelled');
  });

  it('reads params from the bound ConfigMap and denies when they are missing', async () => {
    await install(
      `${policy(
        'replica-limit',
        `paramKind:
    apiVersion: v1
    kind: ConfigMap
  ${DEPLOYMENTS}
  variables:
  - name: limit
    expression: "int(params.data.maxReplicas)"
  validations:
  - expression: "object.spec.replicas <= variables.limit"
    messageExpression: "'at most ' + string(variables.limit) + ' replicas'"`,
      )}---\n${binding(
        'replica-limit-binding',
        'replica-limit',
        `paramRef:
    name: limits
    parameterNotFoundAction: Deny
  validationActions: [Deny]
  matchResources:
    namespaceSelector:
      matchLabels: {env: test}`,
      )}`,
    );
    let r = await k.run(['-n', 'vap', 'create', 'deployment', 'p1', '--image=nginx']);
    assert.match(
      r.stderr,
      /ValidatingAdmissionPolicy 'replica-limit' with binding 'replica-limit-binding' denied request: failed to configure binding: no params found for policy binding with `Deny` parameterNotFoundAction\n$/,
    );
    await k.ok(['-n', 'vap', 'create', 'configmap', 'limits', '--from-literal=maxReplicas=3']);
    r = await k.run(['-n', 'vap', 'create', 'deployment', 'p1', '--image=nginx', '--replicas=4']);
    assert.match(r.stderr, /denied request: at most 3 replicas\n$/);
    await k.ok(['-n', 'vap', 'create', 'deployment', 'p1', '--image=nginx', '--replicas=3']);
    // The binding's namespaceSelector leaves other namespaces alone.
    await k.ok(['-n', 'default', 'create', 'deployment', 'p1', '--image=nginx', '--replicas=8']);
    await remove('validatingadmissionpolicybinding', 'replica-limit-binding');
    await remove('validatingadmissionpolicy', 'replica-limit');
  });

  it('skips requests its matchConditions exclude and follows failurePolicy on errors', async () => {
    await install(
      `${policy(
        'strict',
        `failurePolicy: Fail
  ${DEPLOYMENTS}
  matchConditions:
  - name: not-system
    expression: "!request.userInfo.username.startsWith('system:serviceaccount:')"
  validations:
  - expression: "object.spec.template.spec.nodeSelector.zone == 'a'"`,
      )}---\n${binding('strict-binding', 'strict')}`,
    );
    const r = await k.run(['-n', 'vap', 'create', 'deployment', 'e1', '--image=nginx']);
    assert.match(
      r.stderr,
      /denied request: expression 'object\.spec\.template\.spec\.nodeSelector\.zone == 'a'' resulted in error: no such key: nodeSelector\n$/,
    );
    // A service account is excluded by the match condition.
    await k.ok([
      'create',
      'clusterrolebinding',
      'vap-sa-admin',
      '--clusterrole=cluster-admin',
      '--serviceaccount=vap:default',
    ]);
    const asSA = await k.run([
      '-n',
      'vap',
      '--as=system:serviceaccount:vap:default',
      'create',
      'deployment',
      'e2',
      '--image=nginx',
    ]);
    assert.equal(asSA.code, 0, asSA.stderr);
    // Under Ignore the error lets the request through.
    await k.ok([
      'patch',
      'validatingadmissionpolicy',
      'strict',
      '--type=merge',
      '-p',
      '{"spec":{"failurePolicy":"Ignore"}}',
    ]);
    await k.ok(['-n', 'vap', 'create', 'deployment', 'e1', '--image=nginx']);
    await remove('validatingadmissionpolicybinding', 'strict-binding');
    await remove('validatingadmissionpolicy', 'strict');
  });

  it('stores upstream defaults and refuses expressions that do not compile or have the wrong type', async () => {
    const stored = JSON.parse(
      await k.ok(['create', '-f', '-', '-o', 'json', '--dry-run=server'], {
        stdin: policy('defaults', `${DEPLOYMENTS}\n  validations:\n  - expression: "true"`),
      }),
    );
    assert.equal(stored.spec.failurePolicy, 'Fail');
    assert.deepEqual(
      { ...stored.spec.matchConstraints, resourceRules: undefined },
      { matchPolicy: 'Equivalent', namespaceSelector: {}, objectSelector: {}, resourceRules: undefined },
    );
    assert.equal(stored.spec.matchConstraints.resourceRules[0].scope, '*');
    const r = await k.run(['apply', '-f', '-'], {
      stdin: policy(
        'broken',
        `${DEPLOYMENTS}
  validations:
  - expression: "object.spec.replicas <="
  - expression: "object.spec.replicas"
  - expression: "true"
    messageExpression: "1"`,
      ),
    });
    assert.equal(r.code, 1);
    assert.equal(
      r.stderr,
      [
        'The ValidatingAdmissionPolicy "broken" is invalid: ',
        `* spec.validations[0].expression: Invalid value: "object.spec.replicas <=": compilation failed: ERROR: <input>:1:24: Syntax error: mismatched input '<EOF>' expecting {'[', '{', '(', '.', '-', '!', 'true', 'false', 'null', NUM_FLOAT, NUM_INT, NUM_UINT, STRING, BYTES, IDENTIFIER}`,
        ' | object.spec.replicas <=',
        ' | .......................^',
        '* spec.validations[1].expression: Invalid value: "object.spec.replicas": must evaluate to bool',
        '* spec.validations[2].messageExpression: Invalid value: "1": must evaluate to string',
        '',
      ].join('\n'),
    );
    const b = await k.run(['apply', '-f', '-'], {
      stdin: binding('both', 'p', 'validationActions: [Deny, Deny]'),
    });
    assert.equal(
      b.stderr.trim(),
      'The ValidatingAdmissionPolicyBinding "both" is invalid: spec.validationActions[1]: Duplicate value: "Deny"',
    );
  });

  it('is asked before ResourceQuota, so a refused request is refused for the policy', async () => {
    await k.ok(['create', 'namespace', 'vap-quota']);
    await k.ok(['-n', 'vap-quota', 'create', 'quota', 'none', '--hard=configmaps=0']);
    await install(
      `${policy(
        'no-temp',
        `matchConstraints:
    resourceRules:
    - apiGroups: [""]
      apiVersions: ["v1"]
      operations: ["CREATE"]
      resources: ["configmaps"]
  validations:
  - expression: "!object.metadata.name.startsWith('tmp-')"
    message: "no temporary config"`,
      )}---\n${binding('no-temp-binding', 'no-temp')}`,
    );
    let r = await k.run(['-n', 'vap-quota', 'create', 'configmap', 'tmp-a']);
    assert.match(
      r.stderr,
      /ValidatingAdmissionPolicy 'no-temp' with binding 'no-temp-binding' denied request: no temporary config\n$/,
    );
    r = await k.run(['-n', 'vap-quota', 'create', 'configmap', 'kept']);
    assert.match(
      r.stderr,
      /exceeded quota: none, requested: configmaps=1, used: configmaps=0, limited: configmaps=0\n$/,
    );
    await remove('validatingadmissionpolicybinding', 'no-temp-binding');
    await remove('validatingadmissionpolicy', 'no-temp');
  });
});
