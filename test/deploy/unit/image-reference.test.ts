import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { formatImageReference, parseImageReference, repositoryComponent, versionTag } from '../../../src/deploy/container/reference.js';

describe('parseImageReference', () => {
  const valid: [string, { registry: string; repository: string; tag?: string; digest?: string }][] = [
    ['nginx', { registry: 'docker.io', repository: 'library/nginx' }],
    ['nginx:1.25', { registry: 'docker.io', repository: 'library/nginx', tag: '1.25' }],
    ['bitnami/redis:7', { registry: 'docker.io', repository: 'bitnami/redis', tag: '7' }],
    ['swr.cn-north-4.myhuaweicloud.com/org/app:v1.0.0', { registry: 'swr.cn-north-4.myhuaweicloud.com', repository: 'org/app', tag: 'v1.0.0' }],
    ['127.0.0.1:5000/ns/web:1', { registry: '127.0.0.1:5000', repository: 'ns/web', tag: '1' }],
    ['localhost/app/comp:2024.1205.1200', { registry: 'localhost', repository: 'app/comp', tag: '2024.1205.1200' }],
    ['localhost:5000/web', { registry: 'localhost:5000', repository: 'web' }],
    [`quay.io/a/b@sha256:${'a'.repeat(64)}`, { registry: 'quay.io', repository: 'a/b', digest: `sha256:${'a'.repeat(64)}` }],
    [`quay.io/a/b:t@sha256:${'0'.repeat(64)}`, { registry: 'quay.io', repository: 'a/b', tag: 't', digest: `sha256:${'0'.repeat(64)}` }],
    ['a/b__c/d-e.f:x', { registry: 'docker.io', repository: 'a/b__c/d-e.f', tag: 'x' }],
  ];
  for (const [ref, expected] of valid) {
    it(`parses ${ref}`, () => assert.deepEqual(parseImageReference(ref), expected));
  }

  const invalid = ['', ' nginx', 'nginx ', 'Nginx', 'org/App:1', 'a//b', 'a/b:', 'a/b:-x', 'a/b@sha256:abc', 'a/b:t@md5:00', '/a', 'a/', 'a/b:x y', `a/${'b'.repeat(260)}`, 'a/b:' + 'x'.repeat(129)];
  for (const ref of invalid) {
    it(`refuses ${JSON.stringify(ref.slice(0, 40))}`, () => assert.equal(parseImageReference(ref), undefined));
  }

  it('formats a parsed reference in full, :latest when it has no tag or digest', () => {
    assert.equal(formatImageReference(parseImageReference('nginx')!), 'docker.io/library/nginx:latest');
    assert.equal(formatImageReference(parseImageReference('127.0.0.1:5000/ns/web:1')!), '127.0.0.1:5000/ns/web:1');
    const pinned = `quay.io/a/b@sha256:${'a'.repeat(64)}`;
    assert.equal(formatImageReference(parseImageReference(pinned)!), pinned);
  });
});

describe('local image names', () => {
  const components: [string, string][] = [
    ['my-app', 'my-app'],
    ['My_App', 'my-app'],
    ['Shop Front.v2', 'shop-front-v2'],
    ['--x--', 'x'],
    ['___', 'x'],
    ['订单', 'x'],
  ];
  for (const [name, expected] of components) {
    it(`repositoryComponent(${JSON.stringify(name)}) = ${expected}`, () => {
      assert.equal(repositoryComponent(name), expected);
      assert.ok(parseImageReference(`localhost/${repositoryComponent(name)}/c:1`), 'makes a valid reference');
    });
  }

  const versions: [string, string][] = [
    ['1.0.0', '1.0.0'],
    ['2024.1205.1200', '2024.1205.1200'],
    ['v1+build/7', 'v1_build_7'],
    ['.hidden', '_hidden'],
    ['-x', '_x'],
    ['', '_'],
  ];
  for (const [version, expected] of versions) {
    it(`versionTag(${JSON.stringify(version)}) = ${expected}`, () => {
      assert.equal(versionTag(version), expected);
      assert.ok(parseImageReference(`localhost/a/c:${versionTag(version)}`), 'makes a valid reference');
    });
  }
  it('cuts a long version to 128 characters', () => assert.equal(versionTag('9'.repeat(300)).length, 128));
});
