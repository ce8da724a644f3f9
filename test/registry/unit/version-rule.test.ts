import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { filterByVersionRule, parseVersionRule } from '../../../src/registry/version-rule.js';

describe('parseVersionRule', () => {
  it('parses each form, refuses malformed rules, and answers a rule seen before with the same frozen result', () => {
    assert.deepEqual(parseVersionRule(undefined), { kind: 'all' });
    assert.deepEqual(parseVersionRule('latest'), { kind: 'latest' });
    assert.deepEqual(parseVersionRule('1.0.0+'), { kind: 'atLeast', from: '1.0.0' });
    assert.deepEqual(parseVersionRule('2.0.0-1.0.0'), { kind: 'range', from: '1.0.0', to: '2.0.0' }, 'a reversed range is swapped');
    assert.deepEqual(parseVersionRule('1.2.3'), { kind: 'exact', version: '1.2.3' });
    for (const bad of ['x+', '1..2', '1.0.0-y']) {
      assert.equal(parseVersionRule(bad), undefined, bad);
      assert.equal(parseVersionRule(bad), undefined, `${bad}, asked again`);
    }
    const first = parseVersionRule('0.0.0+');
    assert.equal(parseVersionRule('0.0.0+'), first, 'parsed once');
    assert.ok(Object.isFrozen(first));
    assert.deepEqual(filterByVersionRule(['0.9.0', '1.0.0', '1.5.0'], (v) => v, parseVersionRule('1.0.0+')!), ['1.0.0', '1.5.0']);
  });
});
