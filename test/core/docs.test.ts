import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { generatedDocs } from '../../src/docs.js';

const root = new URL('../../../', import.meta.url).pathname;

describe('generated documents', () => {
  for (const [path, content] of Object.entries(generatedDocs())) {
    it(`${path} is current (run npm run gen:docs)`, () => {
      assert.equal(readFileSync(root + path, 'utf8'), content);
    });
  }
});
