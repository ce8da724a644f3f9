import { Type } from '@sinclair/typebox';
import { ProjectParams } from '../common/schemas.js';
import type { Addon, AddonMetadata } from './types.js';

/** Wire contract of environment add-ons (servicestage.md §8, D:0211–D:0216). */

export const EnvParams = Type.Composite([ProjectParams, Type.Object({ environment_id: Type.String({ minLength: 1, maxLength: 64 }) })]);
export const AddonParams = Type.Composite([EnvParams, Type.Object({ addon_id: Type.String({ minLength: 1, maxLength: 64 }) })]);

/** `name` is checked against the shipped catalog by the service (so the error lists them). */
export const CreateAddonBody = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64 }),
  cce_id: Type.String({ minLength: 1, maxLength: 128 }),
  cse_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
});

export const AddonActionBody = Type.Object({ action: Type.String({ minLength: 1, maxLength: 64 }) });

export const AddonWire = Type.Object({
  id: Type.String(),
  name: Type.String(),
  version: Type.String(),
  cce_id: Type.String(),
  cse_id: Type.String(),
  environment_id: Type.String(),
  job_id: Type.String(),
  status: Type.String(),
});

export const AddonList = Type.Object({ addons: Type.Array(AddonWire) });
export const AddonMetadataList = Type.Object({ addons: Type.Array(Type.Object({ name: Type.String(), latest_version: Type.String() })) });
export const CreateAddonReply = Type.Object({ job_id: Type.String(), id: Type.String() });
export const JobReply = Type.Object({ job_id: Type.String() });

/** The wire object of an add-on. */
export function addonToWire(a: Addon) {
  return { id: a.id, name: a.name, version: a.version, cce_id: a.cceId, cse_id: a.cseId, environment_id: a.environmentId, job_id: a.jobId, status: a.status };
}

/** The wire object of a shipped add-on. */
export function metadataToWire(m: AddonMetadata) {
  return { name: m.name, latest_version: m.latestVersion };
}
