// Tag routes S28–S31 (servicecomb.md §1.2, §6 "Tag POST replaces the whole tag map").
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { RegistryClient, uniq, type Reply } from '../helpers/registry-client.js';
import { startServer } from '../helpers/server.js';
import { assertError, assertEmptyOk } from '../helpers/assert.js';

async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ c: RegistryClient; serviceId: string }> {
  const srv = await startServer(t, overrides);
  const c = new RegistryClient(srv.url);
  const serviceId = await c.createService({ appId: uniq('app'), serviceName: uniq(), version: '1.0.0' });
  return { c, serviceId };
}

const postTags = (c: RegistryClient, serviceId: string, tags: unknown): Promise<Reply<any>> => c.req('POST', `/microservices/${serviceId}/tags`, { tags });

async function getTags(c: RegistryClient, serviceId: string): Promise<unknown> {
  const r = await c.req('GET', `/microservices/${serviceId}/tags`);
  assert.equal(r.status, 200, r.text);
  assert.match(r.headers.get('content-type') ?? '', /^application\/json/);
  return r.body;
}

describe('POST /microservices/{serviceId}/tags', () => {
  it('returns 200 with an empty body and stores the tags', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { env: 'prod', zone: 'a1', Team_x: 'Blue-Green.v2' }));
    assert.deepEqual(await getTags(c, serviceId), { tags: { env: 'prod', zone: 'a1', Team_x: 'Blue-Green.v2' } });
  });

  it('replaces the whole tag map', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { a: 'x', b: 'y' }));
    assertEmptyOk(await postTags(c, serviceId, { b: 'z', c: 'w' }));
    assert.deepEqual(await getTags(c, serviceId), { tags: { b: 'z', c: 'w' } });
  });

  it('returns 200 when the map is empty', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, {}));
  });

  const invalid: { name: string; tags: unknown }[] = [
    { name: 'a key starts with a digit', tags: { '1abc': 'v' } },
    { name: 'a key starts with an underscore', tags: { _abc: 'v' } },
    { name: 'a key has a space', tags: { 'a b': 'v' } },
    { name: 'a key is longer than 64 characters', tags: { ['k'.repeat(65)]: 'v' } },
    { name: 'a value starts with a digit', tags: { version: '1.0' } },
    { name: 'a value is empty', tags: { key: '' } },
    { name: 'a value has a colon', tags: { key: 'a:b' } },
    { name: 'a value is longer than 64 characters', tags: { key: 'v'.repeat(65) } },
    { name: 'a value is not a string', tags: { key: 5 } },
    { name: 'one tag of several is invalid', tags: { good: 'ok', bad: '9' } },
  ];
  for (const { name, tags } of invalid) {
    it(`returns 400 with errorCode 400001 when ${name}`, async (t) => {
      const { c, serviceId } = await setup(t);
      assertEmptyOk(await postTags(c, serviceId, { old: 'kept' }));
      assertError(await postTags(c, serviceId, tags), 400, '400001');
      assert.deepEqual(await getTags(c, serviceId), { tags: { old: 'kept' } });
    });
  }

  it('returns 200 when key and value are 64 characters starting with a letter', async (t) => {
    const { c, serviceId } = await setup(t);
    const k = `K${'a1_-.'.repeat(12)}abc`;
    const v = `v${'Z9.-_'.repeat(12)}xyz`;
    assert.equal(k.length, 64);
    assert.equal(v.length, 64);
    assertEmptyOk(await postTags(c, serviceId, { [k]: v }));
    assert.deepEqual(await getTags(c, serviceId), { tags: { [k]: v } });
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await postTags(c, 'nosuchservice', { a: 'b' }), 400, '400012');
  });

  it('returns 400 with errorCode 400100 when there are more tags than the tag quota', async (t) => {
    const { c, serviceId } = await setup(t, { 'quota.tagsPerService': 2 });
    assertError(await postTags(c, serviceId, { a: 'x', b: 'y', c: 'z' }), 400, '400100');
    assert.deepEqual(await getTags(c, serviceId), {});
    assertEmptyOk(await postTags(c, serviceId, { a: 'x', b: 'y' }));
    assert.deepEqual(await getTags(c, serviceId), { tags: { a: 'x', b: 'y' } });
  });
});

describe('GET /microservices/{serviceId}/tags', () => {
  it('returns 200 with {} when the service has no tag', async (t) => {
    const { c, serviceId } = await setup(t);
    assert.deepEqual(await getTags(c, serviceId), {});
  });

  it('returns 200 with {} after every tag was deleted', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { a: 'x' }));
    assertEmptyOk(await c.req('DELETE', `/microservices/${serviceId}/tags/a`));
    assert.deepEqual(await getTags(c, serviceId), {});
  });

  it('returns the tags given when the service was created', async (t) => {
    const srv = await startServer(t);
    const c = new RegistryClient(srv.url);
    const serviceId = await c.createService({ appId: uniq('app'), serviceName: uniq(), version: '1.0.0' }, { tags: { born: 'withTags' } });
    assert.deepEqual(await getTags(c, serviceId), { tags: { born: 'withTags' } });
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await c.req('GET', '/microservices/nosuchservice/tags'), 400, '400012');
  });
});

describe('PUT /microservices/{serviceId}/tags/{key}?value=', () => {
  it('returns 200 and changes only that existing tag', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { a: 'x', b: 'y' }));
    assertEmptyOk(await c.req('PUT', `/microservices/${serviceId}/tags/a?value=changed`));
    assert.deepEqual(await getTags(c, serviceId), { tags: { a: 'changed', b: 'y' } });
  });

  it('returns 400 with errorCode 400018 when the key does not exist, and adds nothing', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { a: 'x' }));
    assertError(await c.req('PUT', `/microservices/${serviceId}/tags/newkey?value=v`), 400, '400018');
    assert.deepEqual(await getTags(c, serviceId), { tags: { a: 'x' } });
  });

  it('returns 400 with errorCode 400018 when the service has no tag at all', async (t) => {
    const { c, serviceId } = await setup(t);
    assertError(await c.req('PUT', `/microservices/${serviceId}/tags/a?value=v`), 400, '400018');
    assert.deepEqual(await getTags(c, serviceId), {});
  });

  for (const [name, query] of [
    ['the value starts with a digit', '?value=1abc'],
    ['the value is empty', '?value='],
    ['the value is missing', ''],
  ] as const) {
    it(`returns 400 with errorCode 400001 when ${name}`, async (t) => {
      const { c, serviceId } = await setup(t);
      assertEmptyOk(await postTags(c, serviceId, { a: 'x' }));
      assertError(await c.req('PUT', `/microservices/${serviceId}/tags/a${query}`), 400, '400001');
      assert.deepEqual(await getTags(c, serviceId), { tags: { a: 'x' } });
    });
  }

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await c.req('PUT', '/microservices/nosuchservice/tags/a?value=v'), 400, '400012');
  });
});

describe('DELETE /microservices/{serviceId}/tags/{keys}', () => {
  it('returns 200 and deletes every comma-separated key', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { k1: 'a', k2: 'b', k3: 'c' }));
    assertEmptyOk(await c.req('DELETE', `/microservices/${serviceId}/tags/k1,k2`));
    assert.deepEqual(await getTags(c, serviceId), { tags: { k3: 'c' } });
  });

  it('returns 200 and deletes a single key', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { k1: 'a', k2: 'b' }));
    assertEmptyOk(await c.req('DELETE', `/microservices/${serviceId}/tags/k2`));
    assert.deepEqual(await getTags(c, serviceId), { tags: { k1: 'a' } });
  });

  it('returns 400 with errorCode 400018 and deletes nothing when one of the keys does not exist', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await postTags(c, serviceId, { k1: 'a', k2: 'b' }));
    assertError(await c.req('DELETE', `/microservices/${serviceId}/tags/k1,missing`), 400, '400018');
    assert.deepEqual(await getTags(c, serviceId), { tags: { k1: 'a', k2: 'b' } });
    assertError(await c.req('DELETE', `/microservices/${serviceId}/tags/missing,k2`), 400, '400018');
    assert.deepEqual(await getTags(c, serviceId), { tags: { k1: 'a', k2: 'b' } });
  });

  it('returns 400 with errorCode 400018 when the key does not exist', async (t) => {
    const { c, serviceId } = await setup(t);
    assertError(await c.req('DELETE', `/microservices/${serviceId}/tags/missing`), 400, '400018');
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await c.req('DELETE', '/microservices/nosuchservice/tags/k1'), 400, '400012');
  });
});
