import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse as parseYaml } from 'yaml';
import { JsonDepthScanner, jsonNestsDeeperThan, MAX_JSON_DEPTH, NestingError, parseJsonBounded, yamlNestsDeeperThan } from '../../../src/core/nesting.js';
import { unstorableText } from '../../../src/core/wire/huawei.js';

const nestedJson = (levels: number): string => '['.repeat(levels) + ']'.repeat(levels);

describe('jsonNestsDeeperThan', () => {
  const cases: [string, string, boolean][] = [
    ['64 levels', nestedJson(64), false],
    ['65 levels', nestedJson(65), true],
    ['objects and arrays mixed', '{"a":'.repeat(40) + '[' .repeat(30) + ']'.repeat(30) + '}'.repeat(40), true],
    ['brackets inside strings do not count', JSON.stringify({ a: '['.repeat(1000), b: '{'.repeat(1000) }), false],
    ['an escaped quote does not end the string', JSON.stringify({ a: '\\"[[[[' + '['.repeat(100) }), false],
    ['siblings do not add up', JSON.stringify(Array.from({ length: 1000 }, () => [[[1]]])), false],
  ];
  for (const [name, text, deeper] of cases) {
    it(`${name}: ${deeper ? 'too deep' : 'accepted'}, as text and as UTF-8 bytes`, () => {
      assert.equal(jsonNestsDeeperThan(text, MAX_JSON_DEPTH), deeper);
      assert.equal(jsonNestsDeeperThan(Buffer.from(text), MAX_JSON_DEPTH), deeper);
    });
  }

  it('JsonDepthScanner gives the same answers fed in pieces of every size, an escape split across pieces included', () => {
    for (const [name, text, deeper] of cases) {
      for (const size of [1, 2, 3, 7, 64]) {
        const scanner = new JsonDepthScanner(MAX_JSON_DEPTH);
        const bytes = Buffer.from(text);
        let answer = false;
        for (let i = 0; i < bytes.length && !answer; i += size) answer = scanner.feed(bytes.subarray(i, i + size));
        assert.equal(answer, deeper, `${name}, pieces of ${size}`);
      }
    }
  });

  it('JsonDepthScanner keeps an escape pending across an empty piece', () => {
    const scanner = new JsonDepthScanner(MAX_JSON_DEPTH);
    assert.equal(scanner.feed('{"a":"x\\'), false);
    assert.equal(scanner.feed(''), false);
    assert.equal(scanner.feed(`"${'['.repeat(70)}"}`), false, 'the brackets are inside the string');
  });

  it('parseJsonBounded refuses 10,000 levels with a NestingError and parses what is within the bound', () => {
    assert.throws(() => parseJsonBounded(nestedJson(10_000)), NestingError);
    assert.deepEqual(parseJsonBounded('{"a":[1,{"b":"[[["}]}'), { a: [1, { b: '[[[' }] });
    assert.throws(() => parseJsonBounded('{oops'), SyntaxError);
  });
});

describe('yamlNestsDeeperThan', () => {
  const block = (levels: number, indent: number): string => Array.from({ length: levels }, (_, i) => `${' '.repeat(i * indent)}k${i}:`).join('\n') + ' v\n';
  const cases: [string, string, boolean][] = [
    ['flow: 64 levels', nestedJson(64), false],
    ['flow: 10,000 levels', nestedJson(10_000), true],
    ['block maps, 2-space indentation, 30 levels', block(30, 2), false],
    ['block maps, 2-space indentation, 100 levels', block(100, 2), true],
    ['compact sequences: "- - - …" 1,000 times', '- '.repeat(1000) + 'a\n', true],
    ['brackets inside quoted scalars', `a: "${'['.repeat(500)}"\nb: '${'{'.repeat(500)}'\n`, false],
    ['brackets inside a comment', `a: 1 # ${'['.repeat(500)}\n`, false],
    ['an apostrophe inside a plain scalar does not hide what follows', `a: it's\nb: ${nestedJson(200)}\n`, true],
    ['a Kie export', 'data:\n  - key: timeout\n    value: 1s\n    labels:\n      app: shop\n', false],
  ];
  for (const [name, text, deeper] of cases) {
    it(`${name}: ${deeper ? 'too deep' : 'accepted'}`, () => assert.equal(yamlNestsDeeperThan(text), deeper));
  }

  it('whatever it accepts, the yaml package parses without overflowing', () => {
    for (const text of [nestedJson(64), block(30, 2), '- '.repeat(60) + 'a\n']) {
      assert.equal(yamlNestsDeeperThan(text), false);
      assert.doesNotThrow(() => parseYaml(text));
    }
  });
});

describe('unstorableText (issue #15 M1)', () => {
  it('walks 100,000 levels without overflowing the stack and names the field', () => {
    let deep: unknown = 'a\u0000b';
    for (let i = 0; i < 100_000; i++) deep = { x: deep };
    const found = unstorableText(deep, 'body');
    assert.ok(found?.startsWith('body/x/x/'), found?.slice(0, 40));
    assert.ok(found?.endsWith('must not contain a NUL character'));
  });

  it('names the first offending field in document order, keys included', () => {
    assert.equal(unstorableText({ a: 'ok', b: ['x', 'y\ud800'], c: 'z\u0000' }, 'body'), 'body/b/1 is not valid Unicode (a lone surrogate)');
    assert.equal(unstorableText({ ['k\u0000']: 1 }, 'body'), 'body key must not contain a NUL character');
    assert.equal(unstorableText({ a: ['fine', { b: '\ud83d\ude00' }] }, 'body'), undefined);
  });
});
