import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SecretBox } from '../../../src/core/secrets.js';
import { keepRealUrls, redactBody, redactUrl, sealBody, SEALED_KEY, unsealBody } from '../../../src/cas/component/source-secret.js';
import type { ComponentBody } from '../../../src/cas/component/types.js';

const box = SecretBox.open('ab'.repeat(32), '/nonexistent');
const body = (source: Record<string, string>): ComponentBody => ({ name: 'web', runtime_stack: { name: 'Nodejs20', type: 'Nodejs', version: '1.0.0' }, source: { kind: 'package', ...source }, replica: 1, version: '1.0.0', environment_id: 'e' }) as ComponentBody;

describe('redactUrl (issue #15 M5)', () => {
  const cases: [string, string][] = [
    ['http://alice:pw@host:8080/a.jar?x=1', 'http://alice:******@host:8080/a.jar?x=1'],
    ['https://ghp_token123@github.com/o/r.git', 'https://******@github.com/o/r.git'],
    ['https://u:p@ss@host/a.tgz', 'https://u:******@host/a.tgz'],
    ['https://host/a.tgz', 'https://host/a.tgz'],
    ['file:///tmp/a.jar', 'file:///tmp/a.jar'],
    ['not a url', 'not a url'],
  ];
  for (const [url, redacted] of cases) it(`${url} → ${redacted}`, () => assert.equal(redactUrl(url), redacted));
});

describe('sealBody / unsealBody / keepRealUrls', () => {
  it('stores no credential, reads the real URLs back, and leaves bodies without credentials as they are', () => {
    const real = body({ url: 'http://alice:s3cret@host/a.jar', web_url: 'https://host/o/r' });
    const json = sealBody(real, box);
    assert.ok(!json.includes('s3cret'));
    assert.equal((JSON.parse(json) as { source: { url: string } }).source.url, 'http://alice:******@host/a.jar');
    assert.ok(json.includes(SEALED_KEY));
    assert.deepEqual(unsealBody(json, box), real);
    const plain = body({ url: 'https://host/a.jar' });
    assert.equal(sealBody(plain, box), JSON.stringify(plain));
    assert.deepEqual(unsealBody(JSON.stringify(real), box), real, 'JSON stored before sealing reads as it is');
    assert.equal(redactBody(plain), plain);
  });

  it('keeps the stored URL when the new body carries its redacted form, and takes a new one as sent', () => {
    const current = body({ url: 'http://alice:s3cret@host/a.jar' });
    assert.equal(keepRealUrls(body({ url: 'http://alice:******@host/a.jar' }), current).source.url, 'http://alice:s3cret@host/a.jar');
    assert.equal(keepRealUrls(body({ url: 'http://alice:n3w@host/a.jar' }), current).source.url, 'http://alice:n3w@host/a.jar');
    assert.equal(keepRealUrls(body({ url: 'http://bob:******@host/a.jar' }), current).source.url, 'http://bob:******@host/a.jar');
  });
});
