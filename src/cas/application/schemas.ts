import { Type } from '@sinclair/typebox';
import { EnterpriseProjectId, Labels, ProjectParams, ResourceName } from '../common/schemas.js';
import type { ApplicationConfig, ApplicationView } from './types.js';

/**
 * Wire contract of applications and application configuration (servicestage.md §3; field
 * names and types from the Python SDK models Application, ApplicationCreate,
 * ApplicationModify, ApplicationConfigModify). Times are epoch milliseconds.
 */

/** Description limit (INF: the environment's 128 is assumed for applications too). */
const Description = Type.String({ maxLength: 128 });

export const ApplicationParams = Type.Composite([ProjectParams, Type.Object({ application_id: Type.String({ minLength: 1, maxLength: 64 }) })]);

export const CreateApplicationBody = Type.Object({
  name: ResourceName,
  description: Type.Optional(Description),
  enterprise_project_id: Type.Optional(EnterpriseProjectId),
  labels: Type.Optional(Labels),
});

/** Every field optional: absent is unchanged; `labels` is the full list (`[]` clears). */
export const UpdateApplicationBody = Type.Object({
  name: Type.Optional(ResourceName),
  description: Type.Optional(Description),
  enterprise_project_id: Type.Optional(EnterpriseProjectId),
  labels: Type.Optional(Labels),
});

export const Application = Type.Object({
  id: Type.String(),
  name: Type.String(),
  component_count: Type.Integer(),
  creator: Type.String(),
  project_id: Type.String(),
  enterprise_project_id: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  description: Type.String(),
  labels: Labels,
});

export const ApplicationList = Type.Object({ count: Type.Integer(), applications: Type.Array(Application) });

/**
 * An environment variable name: 1–64 letters, digits, `_`, `-` and `.`, not starting with a
 * digit (ServiceStage API doc "Adding or Modifying Application Configurations", table env).
 * Value length is not documented; OpenStage allows 8,192 characters.
 */
export const EnvVar = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z_.-][A-Za-z0-9_.-]*$' }),
  value: Type.String({ maxLength: 8192 }),
});

export const PutConfigurationBody = Type.Object({
  environment_id: Type.String({ minLength: 1, maxLength: 64 }),
  configuration: Type.Object({
    env: Type.Array(EnvVar, { maxItems: 1000 }),
    assign_strategy: Type.Optional(Type.Boolean()),
  }),
});

export const ConfigurationQuery = Type.Object({ environment_id: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })) });
export const DeleteConfigurationQuery = Type.Object({ environment_id: Type.String({ minLength: 1, maxLength: 64 }) });

export const Configuration = Type.Object({
  application_id: Type.String(),
  environment_id: Type.String(),
  configuration: Type.Object({ env: Type.Array(Type.Object({ name: Type.String(), value: Type.String() })), assign_strategy: Type.Boolean() }),
});

export const ConfigurationList = Type.Object({ configuration: Type.Array(Configuration) });

/** The wire object of an application. */
export function applicationToWire(a: ApplicationView) {
  return {
    id: a.id,
    name: a.name,
    component_count: a.componentCount,
    creator: a.creator,
    project_id: a.projectId,
    enterprise_project_id: a.enterpriseProjectId,
    create_time: a.createdAtMs,
    update_time: a.updatedAtMs,
    description: a.description,
    labels: a.labels,
  };
}

/** The wire object of one environment's configuration. */
export function configurationToWire(c: ApplicationConfig) {
  return {
    application_id: c.applicationId,
    environment_id: c.environmentId,
    configuration: { env: c.env.map((e) => ({ name: e.name, value: e.value })), assign_strategy: c.assignStrategy },
  };
}
