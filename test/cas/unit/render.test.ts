import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SYSTEM_VARIABLES, renderConfig } from '../../../src/cas/config/render.js';

const vars = { CAS_APPLICATION_NAME: 'shop', CAS_ENVIRONMENT_NAME: 'prod', PAAS_CSE_SC_ENDPOINT: 'http://127.0.0.1:30100', RELATIONAL_DATABASE_PASSWORD: 'p$&w`d' };

describe('renderConfig', () => {
  it('replaces ${NAME} of system variables with their values', () => {
    assert.equal(renderConfig('app: ${CAS_APPLICATION_NAME}\nenv: ${CAS_ENVIRONMENT_NAME}\n', vars), 'app: shop\nenv: prod\n');
    assert.equal(renderConfig('sc=${PAAS_CSE_SC_ENDPOINT}/v4', vars), 'sc=http://127.0.0.1:30100/v4');
  });

  it('replaces every occurrence, adjacent ones too', () => {
    assert.equal(renderConfig('${CAS_APPLICATION_NAME}${CAS_APPLICATION_NAME}-${CAS_ENVIRONMENT_NAME}', vars), 'shopshop-prod');
  });

  it('inserts values as they are ($&, $1, backquotes) and never scans them again', () => {
    assert.equal(renderConfig('pw: ${RELATIONAL_DATABASE_PASSWORD}', vars), 'pw: p$&w`d');
    assert.equal(renderConfig('x: ${CAS_APPLICATION_NAME}', { CAS_APPLICATION_NAME: '${CAS_ENVIRONMENT_NAME}' }), 'x: ${CAS_ENVIRONMENT_NAME}');
  });

  const untouched: [string, string][] = [
    ['a lone $', 'price: 5$ and $'],
    ['$$', 'pid: $$ and $$$$'],
    ['$NAME without braces', 'app: $CAS_APPLICATION_NAME'],
    ['a name outside the list', 'x: ${NOT_A_SYSTEM_VAR} ${HOME} ${PATH}'],
    ['a lower-case name', 'x: ${cas_application_name}'],
    ['a default expression', 'x: ${CAS_APPLICATION_NAME:-dflt} ${CAS_APPLICATION_NAME:default}'],
    ['spaces inside braces', 'x: ${ CAS_APPLICATION_NAME }'],
    ['an unclosed placeholder', 'x: ${CAS_APPLICATION_NAME'],
    ['a bcrypt hash', 'password: "$2b$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy"'],
    ['single and double quotes', `a: 'it''s'\nb: "say \\"hi\\""\nc: \`tick\``],
    ['JSON', '{"a": {"b": [1, 2, {"$ref": "#/x"}]}, "c": "${}", "d": null}'],
    ['YAML anchors and aliases', 'base: &base\n  a: 1\nderived:\n  <<: *base\n  b: 2\n'],
    ['an empty placeholder', 'x: ${} and $ {CAS_APPLICATION_NAME}'],
    ['Windows line ends and tabs', 'a: 1\r\n\tb: 2\r\n'],
    ['an empty text', ''],
  ];
  for (const [what, text] of untouched) {
    it(`leaves ${what} byte for byte`, () => {
      assert.equal(renderConfig(text, vars), text);
    });
  }

  it('leaves a system variable with no value as it is', () => {
    assert.equal(renderConfig('h: ${DISTRIBUTED_CACHE_HOST}', vars), 'h: ${DISTRIBUTED_CACHE_HOST}');
    assert.equal(renderConfig('h: ${DISTRIBUTED_CACHE_HOST}', {}), 'h: ${DISTRIBUTED_CACHE_HOST}');
  });

  it('ignores values given for names outside the list', () => {
    assert.equal(renderConfig('x: ${FOO}', { FOO: 'bar' }), 'x: ${FOO}');
  });

  it('does not take values from the prototype chain', () => {
    assert.equal(renderConfig('x: ${CAS_APPLICATION_NAME}', Object.create({ CAS_APPLICATION_NAME: 'inherited' }) as Record<string, string>), 'x: ${CAS_APPLICATION_NAME}');
  });

  it('renders the escape $${NAME} as the literal ${NAME}, only for system variables', () => {
    assert.equal(renderConfig('lit: $${CAS_APPLICATION_NAME} val: ${CAS_APPLICATION_NAME}', vars), 'lit: ${CAS_APPLICATION_NAME} val: shop');
    assert.equal(renderConfig('lit: $${CAS_INSTANCE_ID}', {}), 'lit: ${CAS_INSTANCE_ID}');
    assert.equal(renderConfig('keep: $${NOT_A_SYSTEM_VAR}', vars), 'keep: $${NOT_A_SYSTEM_VAR}');
    assert.equal(renderConfig('$$${CAS_APPLICATION_NAME}', vars), '$${CAS_APPLICATION_NAME}');
  });

  it('keeps multi-byte text around placeholders intact', () => {
    const text = '名称: ${CAS_APPLICATION_NAME} — ünïcödé 🚀 ${CAS_ENVIRONMENT_NAME}🚀\n';
    assert.equal(renderConfig(text, vars), '名称: shop — ünïcödé 🚀 prod🚀\n');
    assert.equal(renderConfig('x: ${CAS_APPLICATION_NAME}', { CAS_APPLICATION_NAME: '应用🚀' }), 'x: 应用🚀');
  });

  it('knows every system variable of servicestage.md §7', () => {
    assert.equal(SYSTEM_VARIABLES.length, 30);
    for (const name of ['PAAS_PROJECT_ID', 'CAS_INSTANCE_VERSION', 'DISTRIBUTED_CACHE_CLUSTER', 'RELATIONAL_DATABASE_JNDI_NAME', 'AOM_DISCOVERY_RULE_VERSION']) {
      assert.equal(renderConfig(`\${${name}}`, { [name]: 'v' }), 'v', name);
    }
  });
});
