import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  canonicalCidr,
  cidrContains,
  cidrsOverlap,
  formatIpv4,
  gatewayAddress,
  isIpv4,
  nthAddress,
  parseCidr,
  parseIpv4,
} from './cidr.js';

describe('cidr', () => {
  it('parses and formats addresses', () => {
    for (const s of ['0.0.0.0', '10.42.1.2', '255.255.255.255']) assert.equal(formatIpv4(parseIpv4(s)), s);
    for (const bad of ['10.42.1', '10.42.1.256', 'a.b.c.d', '', '1.2.3.4.5']) {
      assert.throws(() => parseIpv4(bad), /invalid IPv4/);
      assert.equal(isIpv4(bad), false);
    }
  });

  it('canonicalizes CIDRs', () => {
    const cases: [string, string][] = [
      ['10.42.1.7/24', '10.42.1.0/24'],
      ['10.42.0.0/16', '10.42.0.0/16'],
      ['192.168.242.9', '192.168.242.9/32'],
      ['0.0.0.0/0', '0.0.0.0/0'],
    ];
    for (const [input, want] of cases) assert.equal(canonicalCidr(input), want);
    assert.throws(() => parseCidr('10.0.0.0/33'), /invalid CIDR/);
    assert.throws(() => parseCidr('10.0.0.0'), /invalid CIDR/);
  });

  it('answers containment and overlap', () => {
    assert.equal(cidrContains('10.42.0.0/16', '10.42.200.1'), true);
    assert.equal(cidrContains('10.42.0.0/16', '10.43.0.10'), false);
    assert.equal(cidrContains('0.0.0.0/0', '8.8.8.8'), true);
    assert.equal(cidrsOverlap('10.42.0.0/16', '10.42.3.0/24'), true);
    assert.equal(cidrsOverlap('10.42.3.0/24', '10.42.0.0/16'), true);
    assert.equal(cidrsOverlap('10.42.1.0/24', '10.42.2.0/24'), false);
  });

  it('computes the gateway and nth addresses', () => {
    assert.equal(gatewayAddress('10.42.1.0/24'), '10.42.1.1');
    assert.equal(gatewayAddress('10.42.1.77/24'), '10.42.1.1');
    assert.equal(nthAddress('10.42.1.0/24', 255), '10.42.1.255');
    assert.throws(() => nthAddress('10.42.1.0/24', 256), /outside/);
  });
});
