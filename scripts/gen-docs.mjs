// Rewrites the generated documents (openstage.example.yaml, docs/config.md, docs/errors.md)
// from the config schema and error tables. Run after `npm run build`.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { generatedDocs } from '../dist/src/docs.js';

const root = new URL('..', import.meta.url).pathname;
for (const [path, content] of Object.entries(generatedDocs())) {
  mkdirSync(dirname(join(root, path)), { recursive: true });
  writeFileSync(join(root, path), content);
  console.log(`wrote ${path}`);
}
