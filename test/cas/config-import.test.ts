import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { strToU8, zipSync, type Zippable } from 'fflate';
import { assertCasError, startCas, uniqName, type CasClient } from '../helpers/cas-client.js';
import type { Reply } from '../helpers/registry-client.js';

/** Posts a multipart form to /configs/import: `upload_file` as a file plus text fields. */
async function importZip(cas: CasClient, archive: Uint8Array | undefined, fields: Record<string, string> = {}): Promise<Reply<any>> {
  const form = new FormData();
  if (archive) form.append('upload_file', new Blob([new Uint8Array(archive)], { type: 'application/zip' }), 'configs.zip');
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  const res = await fetch(`${cas.base}/v3/${cas.project}/cas/configs/import`, { method: 'POST', headers: { 'x-auth-token': cas.token }, body: form });
  const text = await res.text();
  return { status: res.status, headers: res.headers, text, body: text ? JSON.parse(text) : undefined };
}

const zip = (files: Record<string, string | Uint8Array>): Uint8Array => {
  const z: Zippable = {};
  for (const [path, content] of Object.entries(files)) z[path] = typeof content === 'string' ? strToU8(content) : content;
  return zipSync(z);
};

/**
 * Rewrites a zip's headers: `entry(view, at, central)` is called at every local header
 * (central false) and central-directory record (central true).
 */
function patchZip(archive: Uint8Array, entry: (view: DataView, at: number, central: boolean) => void): Uint8Array {
  const out = new Uint8Array(archive);
  const view = new DataView(out.buffer);
  for (let i = 0; i + 4 <= out.length; i++) {
    const sig = view.getUint32(i, true);
    if (sig === 0x04034b50) entry(view, i, false);
    else if (sig === 0x02014b50) entry(view, i, true);
  }
  return out;
}

/** Asserts the project holds no group and no file. */
async function assertNothingImported(cas: CasClient): Promise<void> {
  assert.deepEqual((await cas.get('/config-groups')).body, { count: 0, config_groups: [] });
  assert.deepEqual((await cas.get('/configs')).body, { count: 0, configs: [] });
}

describe('POST /v3/{project}/cas/configs/import', () => {
  it('maps folders to groups (created when missing) and extensions to types, answering per file', async (t) => {
    const s = await startCas(t);
    const existing = (await s.cas.post('/config-groups', { name: 'shared' })).body;
    const r = await importZip(
      s.cas,
      zip({ 'shared/app.yaml': 'a: 1\n', 'shared/db.properties': 'url=jdbc:x\n', 'orders/routes.yml': 'r: [1]\n', 'orders/': new Uint8Array(0), '__MACOSX/shared/._app.yaml': 'junk', 'orders/.DS_Store': 'junk' }),
    );
    assert.equal(r.status, 200, r.text);
    assert.equal(r.body.count, 3);
    const byPath = Object.fromEntries(r.body.configs.map((c: any) => [c.path, c]));
    assert.deepEqual(Object.keys(byPath).sort(), ['orders/routes.yml', 'shared/app.yaml', 'shared/db.properties']);
    assert.deepEqual([byPath['shared/app.yaml'].name, byPath['shared/app.yaml'].type, byPath['shared/app.yaml'].result, byPath['shared/app.yaml'].version], ['app', 'yaml', 'created', '1']);
    assert.equal(byPath['shared/app.yaml'].config_group_id, existing.id);
    assert.equal(byPath['shared/db.properties'].type, 'properties');
    assert.equal(byPath['orders/routes.yml'].config_group_name, 'orders');
    assert.deepEqual(r.body.created_config_groups.map((g: any) => g.name), ['orders']);
    const orders = (await s.cas.get('/config-groups?name=orders')).body.config_groups[0];
    assert.equal(orders.id, byPath['orders/routes.yml'].config_group_id);
    const file = (await s.cas.get(`/configs/${byPath['shared/db.properties'].id}`)).body;
    assert.deepEqual([file.name, file.type, file.content, file.config_group_id], ['db', 'properties', 'url=jdbc:x\n', existing.id]);
    assert.equal((await s.cas.get('/configs')).body.count, 3);
  });

  it('puts top-level files into the group named by config_group_name (created) or config_group_id', async (t) => {
    const s = await startCas(t);
    const byName = await importZip(s.cas, zip({ 'top.yaml': 'a: 1' }), { config_group_name: 'landing' });
    assert.equal(byName.status, 200, byName.text);
    const landing = (await s.cas.get('/config-groups?name=landing')).body.config_groups[0];
    assert.equal(byName.body.configs[0].config_group_id, landing.id);
    const g = (await s.cas.post('/config-groups', { name: uniqName('grp') })).body;
    const byId = await importZip(s.cas, zip({ 'top.yaml': 'a: 1' }), { config_group_id: g.id });
    assert.equal(byId.status, 200, byId.text);
    assert.equal(byId.body.configs[0].config_group_id, g.id);
  });

  it('keeps content byte for byte (multi-byte, BOM, placeholders, bcrypt hash)', async (t) => {
    const s = await startCas(t);
    const content = '\uFEFFname: "应用🚀"\nhash: "$2b$10$abc"\napp: ${CAS_APPLICATION_NAME}\n';
    const r = await importZip(s.cas, zip({ 'g1/app.yaml': content }));
    assert.equal(r.status, 200, r.text);
    assert.equal((await s.cas.get(`/configs/${r.body.configs[0].id}`)).body.content, content);
  });

  it('updates an existing file of the same name with a record, and leaves an identical one unchanged', async (t) => {
    const s = await startCas(t);
    const first = await importZip(s.cas, zip({ 'g1/aa.yaml': 'a: 1', 'g1/bb.yaml': 'b: 1' }));
    assert.equal(first.status, 200, first.text);
    s.clock.advance(1000);
    const second = await importZip(s.cas, zip({ 'g1/aa.yaml': 'a: 2', 'g1/bb.yaml': 'b: 1' }));
    assert.equal(second.status, 200, second.text);
    const results = Object.fromEntries(second.body.configs.map((c: any) => [c.name, [c.result, c.version]]));
    assert.deepEqual(results, { aa: ['updated', '2'], bb: ['unchanged', '1'] });
    assert.deepEqual(second.body.created_config_groups, []);
    const a = second.body.configs.find((c: any) => c.name === 'aa');
    const hist = (await s.cas.get(`/configs/${a.id}/histories`)).body;
    assert.deepEqual(hist.histories.map((h: any) => [h.version, h.content]), [['1', 'a: 1']]);
    assert.equal((await s.cas.get(`/configs/${a.id}`)).body.content, 'a: 2');
  });

  const bombEntry = new Uint8Array(2 * 1024 * 1024);
  const tooMany: Record<string, string> = {};
  for (let i = 0; i < 501; i += 1) tooMany[`g1/f${i}.yaml`] = 'a: 1';
  const big: Record<string, Uint8Array> = {};
  for (let i = 0; i < 11; i += 1) big[`g1/big${i}.properties`] = new Uint8Array(1000 * 1024).fill(0x61);
  // Random bytes do not compress: over 500 KB once zipped (refused before it is read).
  const noise = new Uint8Array(randomBytes(520 * 1024));

  /** A zip whose central directory under-states the inflated size of its last entry (a lying bomb). */
  const lyingBomb = (): Uint8Array => {
    const z = zip({ 'g1/ok.yaml': 'a: 1', 'g1/liar.properties': new Uint8Array(20 * 1024 * 1024).fill(0x61) });
    const view = new DataView(z.buffer, z.byteOffset, z.byteLength);
    let at = z.length - 46;
    while (view.getUint32(at, true) !== 0x02014b50) at -= 1;
    view.setUint32(at + 24, 10, true);
    return z;
  };

  const bad: [string, () => Uint8Array, Record<string, string>, RegExp][] = [
    ['a file inflates past its declared size (lying zip bomb)', lyingBomb, {}, /liar\.properties" inflates to more than its declared 10 bytes/],
    ['the upload is not a zip', () => strToU8('just text, not an archive'), {}, /not a readable zip archive/],
    ['the archive is over 500 KB', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/noise.properties': noise }), {}, /at most 512000/],
    ['the archive holds more than 500 files', () => zip(tooMany), {}, /more than 500 files/],
    ['a file inflates past 1 MiB (zip bomb)', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/bomb.properties': bombEntry }), {}, /bomb\.properties" inflates to 2097152 bytes/],
    ['the files inflate past 10 MiB together', () => zip({ 'g1/ok.yaml': 'a: 1', ...big }), {}, /more than 10485760 bytes in total/],
    ['a file has an unsupported extension', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/app.json': '{}' }), {}, /g1\/app\.json": unsupported file extension/],
    ['a file name is not a resource name', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/1bad.yaml': 'a: 1' }), {}, /"1bad" is not a valid config file name/],
    ['a folder name is not a group name', () => zip({ 'g1/ok.yaml': 'a: 1', 'bad group/x.yaml': 'a: 1' }), {}, /folder "bad group"/],
    ['folders are nested', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/sub/x.yaml': 'a: 1' }), {}, /only one folder level/],
    ['two entries are one file', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/ok.yml': 'a: 2' }), {}, /another entry is also config file "ok"/],
    ['a file is not UTF-8', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/latin.properties': Uint8Array.from([0x61, 0x3d, 0xe9, 0xff]) }), {}, /latin\.properties" is not UTF-8/],
    ['a YAML file does not parse', () => zip({ 'g1/ok.yaml': 'a: 1', 'g1/broken.yaml': 'a: [1' }), {}, /broken\.yaml" is not valid YAML/],
    ['the archive holds no config file', () => zip({ 'g1/': new Uint8Array(0) }), {}, /no config file/],
    ['top-level files have no group', () => zip({ 'g1/ok.yaml': 'a: 1', 'top.yaml': 'a: 1' }), {}, /"top\.yaml" is not in a folder/],
    ['config_group_id does not exist', () => zip({ 'g1/ok.yaml': 'a: 1', 'top.yaml': 'a: 1' }), { config_group_id: 'nosuchgroup' }, /config_group_id/],
    [
      'a file inflates past the size its headers declare (a lying zip bomb, never truncated)',
      () => patchZip(zip({ 'g1/ok.yaml': 'a: 1', 'g1/liar.yaml': `a: ${'0'.repeat(4 * 1024 * 1024)}` }), (v, at, central) => {
        if (v.getUint16(at + (central ? 28 : 26), true) === 'g1/liar.yaml'.length) v.setUint32(at + (central ? 24 : 22), 100, true);
      }),
      {},
      /liar\.yaml" inflates to more than its declared 100 bytes/,
    ],
    [
      'a file fails its CRC-32',
      () => patchZip(zip({ 'g1/ok.yaml': 'a: 1', 'g1/crc.yaml': 'b: 2' }), (v, at, central) => {
        if (v.getUint16(at + (central ? 28 : 26), true) === 'g1/crc.yaml'.length) v.setUint32(at + (central ? 16 : 14), 12345, true);
      }),
      {},
      /crc\.yaml" fails its CRC-32 check/,
    ],
    [
      'two entries have the same path',
      () => {
        const z = zip({ 'g1/aa.yaml': 'a: 1', 'g1/bb.yaml': 'b: 2' });
        for (let i = 0; i + 10 <= z.length; i++) if (new TextDecoder().decode(z.subarray(i, i + 10)) === 'g1/bb.yaml') z.set(strToU8('g1/aa.yaml'), i);
        return z;
      },
      {},
      /another entry is also config file "aa"/,
    ],
    ['config_group_name is not a name', () => zip({ 'top.yaml': 'a: 1' }), { config_group_name: '-x' }, /config_group_name/],
  ];
  for (const [what, build, fields, msg] of bad) {
    it(`returns 400 SVCSTG.00100400 when ${what}, and imports nothing`, async (t) => {
      const s = await startCas(t);
      assertCasError(await importZip(s.cas, build(), fields), 400, 'SVCSTG.00100400', msg);
      await assertNothingImported(s.cas);
    });
  }

  it('returns 400 SVCSTG.00100400 naming upload_file when the form has no file', async (t) => {
    const s = await startCas(t);
    assertCasError(await importZip(s.cas, undefined, { other: 'x' }), 400, 'SVCSTG.00100400', /body\/files\/upload_file is required/);
  });

  it('returns 400 SVCSTG.00100400 for a JSON body', async (t) => {
    const s = await startCas(t);
    assertCasError(await s.cas.post('/configs/import', { upload_file: 'x' }), 400, 'SVCSTG.00100400', /body\/fields is required/);
    // A JSON body in the form's own shape (found by schemathesis: it was a 500).
    assertCasError(await s.cas.post('/configs/import', { fields: {}, files: { upload_file: { filename: 'a.zip' } } }), 400, 'SVCSTG.00100400', /multipart/);
  });

  it('refuses a folder entry and a top-level entry that land on one file, rolling back the group it created', async (t) => {
    const s = await startCas(t);
    const r = await importZip(s.cas, zip({ 'landing/x1.yaml': 'a: 1', 'x1.yaml': 'a: 2' }), { config_group_name: 'landing' });
    assertCasError(r, 400, 'SVCSTG.00100400', /entries "(landing\/)?x1\.yaml" and "(landing\/)?x1\.yaml" are both config file "x1" of group "landing"/);
    await assertNothingImported(s.cas);
  });
});
