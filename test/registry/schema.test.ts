// Schema routes S8–S13 (servicecomb.md §1.2) and pitfalls.md "Schema changes".
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { describe, it } from 'node:test';
import { RegistryClient, uniq, type Reply } from '../helpers/registry-client.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { assertError, assertEmptyOk } from '../helpers/assert.js';

/** A server, a client and one fresh service. */
async function setup(t: TestContext, overrides: Record<string, unknown> = {}): Promise<{ srv: TestServer; c: RegistryClient; serviceId: string }> {
  const srv = await startServer(t, overrides);
  const c = new RegistryClient(srv.url);
  const serviceId = await c.createService({ appId: uniq('app'), serviceName: uniq(), version: '1.0.0' });
  return { srv, c, serviceId };
}

const putSchema = (c: RegistryClient, serviceId: string, schemaId: string, body: unknown): Promise<Reply<any>> =>
  c.req('PUT', `/microservices/${serviceId}/schemas/${schemaId}`, body);

const getSchema = (c: RegistryClient, serviceId: string, schemaId: string): Promise<Reply<any>> =>
  c.req('GET', `/microservices/${serviceId}/schemas/${schemaId}`);

async function serviceSchemas(c: RegistryClient, serviceId: string): Promise<string[] | undefined> {
  const r = await c.req('GET', `/microservices/${serviceId}`);
  assert.equal(r.status, 200, r.text);
  return r.body.service.schemas;
}

describe('GET /microservices/{serviceId}/schemas/{schemaId}', () => {
  it('returns 200 with the content and the summary in X-Schema-Summary', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'hello', { schema: 'openapi: 3.0.0', summary: 'sum1' }));
    const r = await getSchema(c, serviceId, 'hello');
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { schema: 'openapi: 3.0.0' });
    assert.equal(r.headers.get('x-schema-summary'), 'sum1');
  });

  it('returns 400 with errorCode 400016 when the schema does not exist', async (t) => {
    const { c, serviceId } = await setup(t);
    assertError(await getSchema(c, serviceId, 'missing'), 400, '400016');
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await getSchema(c, 'nosuchservice', 'hello'), 400, '400012');
  });
});

describe('PUT /microservices/{serviceId}/schemas/{schemaId}', () => {
  it('returns 200 with an empty body and adds the schemaId to service.schemas once', async (t) => {
    const { c, serviceId } = await setup(t);
    assert.equal(await serviceSchemas(c, serviceId), undefined);
    assertEmptyOk(await putSchema(c, serviceId, 'first', { schema: 'a', summary: 's1' }));
    assertEmptyOk(await putSchema(c, serviceId, 'second', { schema: 'b', summary: 's2' }));
    assertEmptyOk(await putSchema(c, serviceId, 'first', { schema: 'a2', summary: 's3' }));
    assert.deepEqual(await serviceSchemas(c, serviceId), ['first', 'second']);
  });

  const invalidBodies: { name: string; body: unknown }[] = [
    { name: 'the content is missing', body: { summary: 'abc' } },
    { name: 'the content is empty', body: { schema: '', summary: 'abc' } },
    { name: 'the content is not a string', body: { schema: 42, summary: 'abc' } },
    { name: 'the summary is longer than 128 characters', body: { schema: 'x', summary: 'a'.repeat(129) } },
    { name: 'the summary has a character other than letters and digits', body: { schema: 'x', summary: 'a-b' } },
    { name: 'the summary has a space', body: { schema: 'x', summary: 'a b' } },
  ];
  for (const { name, body } of invalidBodies) {
    it(`returns 400 with errorCode 400001 when ${name}`, async (t) => {
      const { c, serviceId } = await setup(t);
      assertError(await putSchema(c, serviceId, 'bad', body), 400, '400001');
      assertError(await getSchema(c, serviceId, 'bad'), 400, '400016');
      assert.equal(await serviceSchemas(c, serviceId), undefined);
    });
  }

  it('returns 400 with errorCode 400001 when the schemaId does not match the schema id pattern', async (t) => {
    const { c, serviceId } = await setup(t);
    assertError(await putSchema(c, serviceId, 'bad_', { schema: 'x', summary: 'abc' }), 400, '400001');
    assert.equal(await serviceSchemas(c, serviceId), undefined);
  });

  it('returns 200 when the summary is empty or absent, or exactly 128 letters and digits', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'emptysummary', { schema: 'x', summary: '' }));
    assertEmptyOk(await putSchema(c, serviceId, 'nosummary', { schema: 'y' }));
    const long = 'Ab1'.repeat(42) + 'Zz';
    assert.equal(long.length, 128);
    assertEmptyOk(await putSchema(c, serviceId, 'longsummary', { schema: 'z', summary: long }));
    assert.equal((await getSchema(c, serviceId, 'longsummary')).headers.get('x-schema-summary'), long);
    assert.deepEqual((await getSchema(c, serviceId, 'nosummary')).body, { schema: 'y' });
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await putSchema(c, 'nosuchservice', 'hello', { schema: 'x', summary: 'abc' }), 400, '400012');
  });

  it('returns 400 with errorCode 400100 when a new schemaId exceeds the schema quota', async (t) => {
    const { c, serviceId } = await setup(t, { 'quota.schemasPerService': 2 });
    assertEmptyOk(await putSchema(c, serviceId, 's1', { schema: 'one', summary: 'a' }));
    assertEmptyOk(await putSchema(c, serviceId, 's2', { schema: 'two', summary: 'b' }));
    assertError(await putSchema(c, serviceId, 's3', { schema: 'three', summary: 'c' }), 400, '400100');
    assertError(await getSchema(c, serviceId, 's3'), 400, '400016');
    assert.deepEqual(await serviceSchemas(c, serviceId), ['s1', 's2']);
    // Changing an id that is already counted needs no new quota.
    assertEmptyOk(await putSchema(c, serviceId, 's1', { schema: 'one again', summary: 'a2' }));
    assert.deepEqual((await getSchema(c, serviceId, 's1')).body, { schema: 'one again' });
  });

  it('returns 200 and changes nothing when the same content and summary are put again', async (t) => {
    const { srv, c, serviceId } = await setup(t);
    const content = 'swagger: "2.0"\ninfo:\n  title: same\n';
    assertEmptyOk(await putSchema(c, serviceId, 'same', { schema: content, summary: 'keep1' }));
    const before = await c.req('GET', `/microservices/${serviceId}`);
    srv.clock.advance(10_000);
    assertEmptyOk(await putSchema(c, serviceId, 'same', { schema: content, summary: 'keep1' }));
    assertEmptyOk(await putSchema(c, serviceId, 'same', { schema: content, summary: 'keep1' }));
    const r = await getSchema(c, serviceId, 'same');
    assert.deepEqual(r.body, { schema: content });
    assert.equal(r.headers.get('x-schema-summary'), 'keep1');
    const after = await c.req('GET', `/microservices/${serviceId}`);
    assert.deepEqual(after.body, before.body);
    const list = await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=1`);
    assert.deepEqual(list.body, { schemas: [{ schemaId: 'same', summary: 'keep1', schema: content }] });
  });

  it('returns exactly the stored bytes and summary on the next read after a change', async (t) => {
    const { c, serviceId } = await setup(t);
    const first = 'openapi: 3.0.0\r\ninfo:\n  title: "é 中文 😀 \\u0041 <&>"\n\t  trailing spaces   \n\n';
    assertEmptyOk(await putSchema(c, serviceId, 'exact', { schema: first, summary: 'v1' }));
    let r = await getSchema(c, serviceId, 'exact');
    assert.equal(r.body.schema, first);
    assert.equal(r.headers.get('x-schema-summary'), 'v1');
    const second = `${'{"paths":{}}'.repeat(10000)}  `;
    assertEmptyOk(await putSchema(c, serviceId, 'exact', { schema: second, summary: 'v2' }));
    r = await getSchema(c, serviceId, 'exact');
    assert.equal(r.body.schema, second);
    assert.equal(r.headers.get('x-schema-summary'), 'v2');
    const list = await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=1`);
    assert.deepEqual(list.body, { schemas: [{ schemaId: 'exact', summary: 'v2', schema: second }] });
  });
});

describe('POST /microservices/{serviceId}/schemas', () => {
  it('returns 200, removes the schemas not listed and resets service.schemas to the list', async (t) => {
    const { c, serviceId } = await setup(t);
    for (const id of ['keep', 'dropa', 'dropb']) assertEmptyOk(await putSchema(c, serviceId, id, { schema: `old ${id}`, summary: 'old' }));
    const r = await c.req('POST', `/microservices/${serviceId}/schemas`, {
      schemas: [
        { schemaId: 'keep', schema: 'new keep', summary: 'new1' },
        { schemaId: 'added', schema: 'new added', summary: 'new2' },
      ],
    });
    assertEmptyOk(r);
    assert.deepEqual(await serviceSchemas(c, serviceId), ['keep', 'added']);
    assertError(await getSchema(c, serviceId, 'dropa'), 400, '400016');
    assertError(await getSchema(c, serviceId, 'dropb'), 400, '400016');
    const keep = await getSchema(c, serviceId, 'keep');
    assert.deepEqual(keep.body, { schema: 'new keep' });
    assert.equal(keep.headers.get('x-schema-summary'), 'new1');
    const added = await getSchema(c, serviceId, 'added');
    assert.deepEqual(added.body, { schema: 'new added' });
    assert.equal(added.headers.get('x-schema-summary'), 'new2');
    const list = await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=1`);
    assert.deepEqual(list.body, {
      schemas: [
        { schemaId: 'keep', summary: 'new1', schema: 'new keep' },
        { schemaId: 'added', summary: 'new2', schema: 'new added' },
      ],
    });
  });

  const invalid: { name: string; schemas: unknown }[] = [
    { name: 'the summary is missing', schemas: [{ schemaId: 'a', schema: 'x' }] },
    { name: 'the summary is empty', schemas: [{ schemaId: 'a', schema: 'x', summary: '' }] },
    { name: 'the summary is longer than 128 characters', schemas: [{ schemaId: 'a', schema: 'x', summary: 'a'.repeat(129) }] },
    { name: 'the summary has a character other than letters and digits', schemas: [{ schemaId: 'a', schema: 'x', summary: 'a.b' }] },
    { name: 'the content is empty', schemas: [{ schemaId: 'a', schema: '', summary: 'abc' }] },
    { name: 'the content is missing', schemas: [{ schemaId: 'a', summary: 'abc' }] },
    { name: 'the schemaId does not match the schema id pattern', schemas: [{ schemaId: '-a', schema: 'x', summary: 'abc' }] },
    { name: 'the list is empty', schemas: [] },
    { name: 'one entry of several is invalid', schemas: [{ schemaId: 'a', schema: 'x', summary: 'abc' }, { schemaId: 'b', schema: 'y' }] },
  ];
  for (const { name, schemas } of invalid) {
    it(`returns 400 with errorCode 400001 and detail "Invalid request." when ${name}`, async (t) => {
      const { c, serviceId } = await setup(t);
      assertEmptyOk(await putSchema(c, serviceId, 'existing', { schema: 'old', summary: 'old' }));
      assertError(await c.req('POST', `/microservices/${serviceId}/schemas`, { schemas }), 400, '400001', 'Invalid request.');
      // Nothing was replaced.
      assert.deepEqual(await serviceSchemas(c, serviceId), ['existing']);
      assert.deepEqual((await getSchema(c, serviceId, 'existing')).body, { schema: 'old' });
      assertError(await getSchema(c, serviceId, 'a'), 400, '400016');
    });
  }

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    const r = await c.req('POST', '/microservices/nosuchservice/schemas', { schemas: [{ schemaId: 'a', schema: 'x', summary: 'abc' }] });
    assertError(r, 400, '400012');
  });
});

describe('GET /microservices/{serviceId}/schemas', () => {
  it('returns ids and summaries without content when withSchema is 0 or absent, and with content when 1', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'alpha', { schema: 'content a', summary: 'suma' }));
    assertEmptyOk(await putSchema(c, serviceId, 'beta', { schema: 'content b', summary: 'sumb' }));
    const bySchemaId = (list: { schemaId: string }[]): { schemaId: string }[] => [...list].sort((x, y) => x.schemaId.localeCompare(y.schemaId));
    for (const q of ['?withSchema=0', '']) {
      const r = await c.req('GET', `/microservices/${serviceId}/schemas${q}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(bySchemaId(r.body.schemas), [
        { schemaId: 'alpha', summary: 'suma' },
        { schemaId: 'beta', summary: 'sumb' },
      ]);
    }
    const r = await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=1`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(bySchemaId(r.body.schemas), [
      { schemaId: 'alpha', summary: 'suma', schema: 'content a' },
      { schemaId: 'beta', summary: 'sumb', schema: 'content b' },
    ]);
  });

  it('returns 200 with {} when the service has no schema', async (t) => {
    const { c, serviceId } = await setup(t);
    const r = await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=1`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, {});
  });

  for (const value of ['2', 'true', 'yes', '-1']) {
    it(`returns 400 with errorCode 400001 when withSchema is "${value}"`, async (t) => {
      const { c, serviceId } = await setup(t);
      assertEmptyOk(await putSchema(c, serviceId, 'alpha', { schema: 'content a', summary: 'suma' }));
      assertError(await c.req('GET', `/microservices/${serviceId}/schemas?withSchema=${value}`), 400, '400001');
    });
  }

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await c.req('GET', '/microservices/nosuchservice/schemas'), 400, '400012');
  });
});

describe('DELETE /microservices/{serviceId}/schemas/{schemaId}', () => {
  it('returns 200, removes the schema and removes its id from service.schemas', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'gone', { schema: 'x', summary: 'a' }));
    assertEmptyOk(await putSchema(c, serviceId, 'stays', { schema: 'y', summary: 'b' }));
    assertEmptyOk(await c.req('DELETE', `/microservices/${serviceId}/schemas/gone`));
    assertError(await getSchema(c, serviceId, 'gone'), 400, '400016');
    assert.deepEqual(await serviceSchemas(c, serviceId), ['stays']);
    const list = await c.req('GET', `/microservices/${serviceId}/schemas`);
    assert.deepEqual(list.body, { schemas: [{ schemaId: 'stays', summary: 'b' }] });
    assertError(await c.req('DELETE', `/microservices/${serviceId}/schemas/gone`), 400, '400016');
  });

  it('returns 400 with errorCode 400016 when the schema does not exist', async (t) => {
    const { c, serviceId } = await setup(t);
    assertError(await c.req('DELETE', `/microservices/${serviceId}/schemas/missing`), 400, '400016');
  });

  it('returns 400 with errorCode 400012 when the service does not exist', async (t) => {
    const { c } = await setup(t);
    assertError(await c.req('DELETE', '/microservices/nosuchservice/schemas/hello'), 400, '400012');
  });
});

describe('GET /existence?type=schema', () => {
  it('returns 200 with serviceId and schemaId and the summary in X-Schema-Summary', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'there', { schema: 'x', summary: 'exists1' }));
    const r = await c.req('GET', `/existence?type=schema&serviceId=${serviceId}&schemaId=there`);
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body, { serviceId, schemaId: 'there' });
    assert.equal(r.headers.get('x-schema-summary'), 'exists1');
  });

  it('returns 400 with errorCode 400016 when the schema does not exist', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'there', { schema: 'x', summary: 'exists1' }));
    assertError(await c.req('GET', `/existence?type=schema&serviceId=${serviceId}&schemaId=notthere`), 400, '400016');
  });

  it('returns 400 with errorCode 400016 after the schema was deleted', async (t) => {
    const { c, serviceId } = await setup(t);
    assertEmptyOk(await putSchema(c, serviceId, 'there', { schema: 'x', summary: 'exists1' }));
    assertEmptyOk(await c.req('DELETE', `/microservices/${serviceId}/schemas/there`));
    assertError(await c.req('GET', `/existence?type=schema&serviceId=${serviceId}&schemaId=there`), 400, '400016');
  });
});
