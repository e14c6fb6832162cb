import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Secret } from '../api/generated/types/core-v1.js';
import { DockerKeyring, dockerConfigOf, keyringFromSecrets, repositoryOf } from './pull-secrets.js';

const b64 = (s: string): string => Buffer.from(s).toString('base64');

describe('pull secrets keyring', () => {
  it('finds the repository of an image reference', () => {
    const cases: [string, string][] = [
      ['busybox', 'index.docker.io/library/busybox'],
      ['busybox:1.36', 'index.docker.io/library/busybox'],
      ['team/app@sha256:abc', 'index.docker.io/team/app'],
      ['docker.io/library/nginx:1', 'docker.io/library/nginx'],
      ['127.0.0.1:5000/busybox:1', '127.0.0.1:5000/busybox'],
      ['localhost/app', 'localhost/app'],
      ['reg.example.com/a/b:2', 'reg.example.com/a/b'],
    ];
    for (const [image, repo] of cases) assert.equal(repositoryOf(image), repo, image);
  });

  it('matches keys by host (with wildcards), port and path prefix, most specific first', () => {
    const k = new DockerKeyring();
    k.add({
      'https://index.docker.io/v1/': { username: 'hub', password: 'h' },
      'reg.example.com': { username: 'any', password: 'a' },
      'reg.example.com/team': { username: 'team', password: 't' },
      '*.corp.example': { username: 'glob', password: 'g' },
      'http://127.0.0.1:5000': { auth: b64('loop:secret:with:colons') },
    });
    const users = (image: string): string[] => k.lookup(image).map((a) => a.username ?? '');
    const cases: [string, string[]][] = [
      ['busybox', ['hub']],
      ['docker.io/library/busybox:1', ['hub']],
      ['reg.example.com/team/app:1', ['team', 'any']],
      ['reg.example.com/teamster/app:1', ['any']],
      ['reg.example.com:443/app', []],
      ['a.corp.example/x', ['glob']],
      ['a.b.corp.example/x', []],
      ['127.0.0.1:5000/busybox:1', ['loop']],
      ['127.0.0.1:5001/busybox:1', []],
    ];
    for (const [image, want] of cases) assert.deepEqual(users(image), want, image);
    assert.equal(k.lookup('127.0.0.1:5000/x')[0]?.password, 'secret:with:colons');
  });

  it('reads dockerconfigjson and dockercfg secrets and ignores other types', () => {
    const json: Secret = {
      type: 'kubernetes.io/dockerconfigjson',
      data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { 'r.example': { username: 'j' } } })) },
    };
    const cfg: Secret = {
      type: 'kubernetes.io/dockercfg',
      data: { '.dockercfg': b64(JSON.stringify({ 'q.example': { username: 'c' } })) },
    };
    const opaque: Secret = {
      type: 'Opaque',
      data: { '.dockerconfigjson': json.data?.['.dockerconfigjson'] ?? '' },
    };
    assert.deepEqual(dockerConfigOf(opaque), undefined);
    const k = keyringFromSecrets([json, cfg, opaque]);
    assert.equal(k.lookup('r.example/a')[0]?.username, 'j');
    assert.equal(k.lookup('q.example/a')[0]?.username, 'c');
    assert.equal(k.lookup('r.example/a').length, 1);
  });
});
