import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fieldErrorMessage } from '../status-error.js';
import {
  isConfigMapKey,
  isDNS1035Label,
  isDNS1123Label,
  isDNS1123Subdomain,
  isEnvVarName,
  isQualifiedName,
  isValidCIDR,
  isValidIP,
  isValidIPv4Address,
  isValidIPv6Address,
  isValidLabelValue,
  isValidPathSegmentName,
  isValidPercent,
  isValidPortName,
  isValidPortNum,
  nameIsDNS1035Label,
  nameIsDNSSubdomain,
  validateAnnotations,
  validateFinalizers,
  validatePathSegmentName,
} from './names.js';

const SUBDOMAIN_MSG =
  "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')";
const LABEL_MSG =
  "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')";
const DNS1035_MSG =
  "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')";

describe('DNS names', () => {
  it('checks RFC 1123 subdomains', () => {
    for (const ok of [
      'a',
      'ab',
      'a-b',
      '0',
      'a.b',
      'a1.b2',
      `${'a'.repeat(63)}.${'b'.repeat(63)}`,
      'a'.repeat(253),
    ]) {
      assert.deepEqual(isDNS1123Subdomain(ok), [], ok);
    }
    for (const bad of ['', 'A', 'a_b', '-a', 'a-', 'a..b', '.a', 'a.', 'a b']) {
      assert.deepEqual(isDNS1123Subdomain(bad), [SUBDOMAIN_MSG], bad);
    }
    assert.deepEqual(isDNS1123Subdomain('a'.repeat(254)), ['must be no more than 253 characters']);
  });

  it('checks RFC 1123 labels, naming dots specially', () => {
    assert.deepEqual(isDNS1123Label('my-name'), []);
    assert.deepEqual(isDNS1123Label('a.b'), ['must not contain dots']);
    assert.deepEqual(isDNS1123Label('A'), [LABEL_MSG]);
    assert.deepEqual(isDNS1123Label('a'.repeat(64)), ['must be no more than 63 characters']);
  });

  it('checks RFC 1035 labels', () => {
    assert.deepEqual(isDNS1035Label('abc-123'), []);
    assert.deepEqual(isDNS1035Label('1abc'), [DNS1035_MSG]);
  });

  it('masks a trailing dash of generateName prefixes', () => {
    assert.deepEqual(nameIsDNSSubdomain('web-', true), []);
    assert.deepEqual(nameIsDNSSubdomain('web-', false), [SUBDOMAIN_MSG]);
    assert.deepEqual(nameIsDNS1035Label('svc-', true), []);
  });
});

describe('qualified names and label values', () => {
  it('accepts prefixed names', () => {
    for (const ok of [
      'simple',
      'now-with-dashes',
      '1-starts-with-num',
      '1234',
      'simple/simple',
      'now-with-dashes/simple',
      'example.com/Upper_Case',
      `${'a'.repeat(253)}/${'b'.repeat(63)}`,
    ]) {
      assert.deepEqual(isQualifiedName(ok), [], ok);
    }
    assert.equal(isQualifiedName('a/b/c').length, 1);
    assert.deepEqual(isQualifiedName(`${'a'.repeat(254)}/b`), [
      'prefix part must be no more than 253 characters',
    ]);
  });

  it('accepts empty and 63-character label values', () => {
    assert.deepEqual(isValidLabelValue(''), []);
    assert.deepEqual(isValidLabelValue('a'.repeat(63)), []);
    assert.equal(isValidLabelValue('a b').length, 1);
    assert.equal(isValidLabelValue('a'.repeat(64)).length, 1);
  });
});

describe('other value rules', () => {
  it('checks ports', () => {
    assert.deepEqual(isValidPortNum(1), []);
    assert.deepEqual(isValidPortNum(65535), []);
    assert.deepEqual(isValidPortNum(0), ['must be between 1 and 65535, inclusive']);
    assert.deepEqual(isValidPortName('http'), []);
    assert.deepEqual(isValidPortName('-a--b'), [
      'must not contain consecutive hyphens',
      'must not begin or end with a hyphen',
    ]);
    assert.deepEqual(isValidPortName('123'), ['must contain at least one letter (a-z)']);
  });

  it('checks IPs and CIDRs', () => {
    for (const ok of [
      '1.2.3.4',
      '010.001.2.3',
      '::1',
      '2001:db8::ffff',
      '::ffff:1.2.3.4',
      '1:2:3:4:5:6:7:8',
    ]) {
      assert.deepEqual(isValidIP('ip', ok), [], ok);
    }
    for (const bad of ['', '1.2.3', '256.1.1.1', '1:2:3:4:5:6:7:8:9', 'a::b::c', 'fe80::1%eth0', 'x']) {
      assert.equal(isValidIP('ip', bad).length, 1, bad);
    }
    assert.equal(
      fieldErrorMessage(isValidIP('spec.clusterIP', 'x')[0] as ReturnType<typeof isValidIP>[0]),
      'spec.clusterIP: Invalid value: "x": must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)',
    );
    assert.deepEqual(isValidIPv4Address('f', '::ffff:1.2.3.4'), []);
    assert.equal(isValidIPv4Address('f', '::1').length, 1);
    assert.deepEqual(isValidIPv6Address('f', '::1'), []);
    assert.equal(isValidIPv6Address('f', '1.2.3.4').length, 1);
    assert.deepEqual(isValidCIDR('c', '10.42.0.0/16'), []);
    assert.deepEqual(isValidCIDR('c', 'fd00::/64'), []);
    assert.equal(isValidCIDR('c', '10.0.0.0/33').length, 1);
    assert.equal(isValidCIDR('c', '10.0.0.0').length, 1);
  });

  it('checks percents, env names and config keys', () => {
    assert.deepEqual(isValidPercent('25%'), []);
    assert.deepEqual(isValidPercent('25'), [
      "a valid percent string must be a numeric string followed by an ending '%' (e.g. '1%',  or '93%', regex used for validation is '[0-9]+%')",
    ]);
    assert.deepEqual(isEnvVarName('MY_VAR.x-1'), []);
    assert.equal(isEnvVarName('1A').length, 1);
    assert.deepEqual(isEnvVarName('..'), ["must not be '..'"]);
    assert.deepEqual(isConfigMapKey('key.name'), []);
    assert.deepEqual(isConfigMapKey('..a'), ["must not start with '..'"]);
  });

  it('checks path segment names', () => {
    assert.deepEqual(isValidPathSegmentName('.'), ["may not be '.'"]);
    assert.deepEqual(isValidPathSegmentName('..'), ["may not be '..'"]);
    assert.deepEqual(isValidPathSegmentName('a/b%c'), ["may not contain '/'", "may not contain '%'"]);
    assert.deepEqual(validatePathSegmentName('.', true), []);
    assert.deepEqual(validatePathSegmentName('system:admin', false), []);
  });
});

describe('object metadata', () => {
  it('limits annotations to 256 KiB in total', () => {
    assert.deepEqual(validateAnnotations({ a: 'x'.repeat(262143) }, 'metadata.annotations'), []);
    const errs = validateAnnotations({ a: 'x'.repeat(262144) }, 'metadata.annotations');
    assert.deepEqual(errs.map(fieldErrorMessage), [
      'metadata.annotations: Too long: may not be more than 262144 bytes',
    ]);
    assert.equal(validateAnnotations({ 'Example.COM/Key': 'v' }, 'a').length, 0);
    assert.equal(validateAnnotations({ 'bad key': 'v' }, 'a').length, 1);
  });

  it('checks finalizers', () => {
    assert.deepEqual(validateFinalizers(['kubernetes.io/pv-protection', 'orphan'], 'f'), []);
    assert.deepEqual(
      validateFinalizers(['orphan', 'foregroundDeletion'], 'f').map((e) => e.detail),
      ['finalizer orphan and foregroundDeletion cannot be both set'],
    );
    assert.equal(validateFinalizers(['a/b/c'], 'f').length, 1);
  });
});
