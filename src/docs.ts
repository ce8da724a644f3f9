import { configMarkdown, errorsMarkdown, exampleYaml } from './core/config-docs.js';
import { RegistryCodes } from './registry/errors.js';

/** Every generated document: repository-relative path → content. */
export function generatedDocs(): Record<string, string> {
  return {
    'openstage.example.yaml': exampleYaml(),
    'docs/config.md': configMarkdown(),
    'docs/errors.md': errorsMarkdown([
      {
        area: 'Service center (registry), `/v4/{project}/registry`',
        format: 'Body `{"errorCode":"<code as string>","errorMessage":"<message>","detail":"<free text, omitted when empty>"}`; HTTP status = code / 1000.',
        codes: Object.values(RegistryCodes).map((c) => ({ code: c.code, status: Math.floor(c.code / 1000), message: c.message })),
      },
    ]),
  };
}
