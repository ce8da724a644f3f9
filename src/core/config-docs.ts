import type { TSchema } from '@sinclair/typebox';
import { configKeys } from './config.js';

/**
 * Documents generated from the config schema and the error tables (STYLE.md §5, §8):
 * `openstage.example.yaml`, `docs/config.md` and `docs/errors.md`. A test fails when the
 * committed files differ from what these functions produce (`npm run gen:docs` rewrites them).
 */

const defaultOf = (schema: TSchema): unknown => (schema as { default?: unknown }).default;
const describe = (schema: TSchema): string => (schema as { description?: string }).description ?? '';
const yamlValue = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : String(v));

/** The fully commented example configuration file. */
export function exampleYaml(): string {
  const lines = ['# OpenStage configuration (generated from src/core/config.ts; `npm run gen:docs`).', '# Every key is optional; the value shown is the default.', '# Order: defaults → this file (--config) → OPENSTAGE_* environment → flags.', ''];
  let section = '';
  for (const key of configKeys()) {
    const parts = key.path.split('.');
    const indent = parts.length > 1 ? '  ' : '';
    if (parts.length > 1 && parts[0] !== section) {
      section = parts[0]!;
      lines.push('', `${section}:`);
    }
    lines.push(`${indent}# ${describe(key.schema)} (env ${key.env})`);
    lines.push(`${indent}${parts[parts.length - 1]}: ${yamlValue(defaultOf(key.schema))}`);
  }
  return `${lines.join('\n')}\n`;
}

/** docs/config.md: every key, its environment variable, default and meaning. */
export function configMarkdown(): string {
  const rows = configKeys().map((k) => `| \`${k.path}\` | \`${k.env}\` | \`${yamlValue(defaultOf(k.schema))}\` | ${describe(k.schema)} |`);
  return [
    '# Configuration',
    '',
    'Generated from `src/core/config.ts` by `npm run gen:docs`. Sources, later wins: defaults → YAML file (`--config`) → environment → flags (`--host`, `--port`, `--data-dir`, `--db`, `--log-level`). Unknown keys and bad values stop the start, naming the key. ServiceComb quota variables `QUOTA_SERVICE`, `QUOTA_INSTANCE`, `QUOTA_SCHEMA`, `QUOTA_TAG`, `QUOTA_ACCOUNT`, `QUOTA_ROLE`, `QUOTA_CONFIG` set the `quota.*` keys.',
    '',
    '| key | environment | default | meaning |',
    '|---|---|---|---|',
    ...rows,
    '',
  ].join('\n');
}

/** docs/errors.md from the areas' error tables. */
export function errorsMarkdown(tables: { area: string; format: string; codes: { code: number | string; status: number; message: string }[] }[]): string {
  const out = ['# Error codes', '', 'Generated from the areas\' `errors.ts` tables by `npm run gen:docs`.', ''];
  for (const t of tables) {
    out.push(`## ${t.area}`, '', t.format, '', '| code | HTTP status | message |', '|---|---|---|');
    for (const c of t.codes) out.push(`| ${c.code} | ${c.status} | ${c.message} |`);
    out.push('');
  }
  return out.join('\n');
}
