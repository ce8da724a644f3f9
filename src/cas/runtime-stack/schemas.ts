import { Type } from '@sinclair/typebox';
import { ProjectParams } from '../common/schemas.js';
import { STACK_TYPES, type RuntimeStackView } from './types.js';

/**
 * Wire contract of runtime stacks (servicestage.md §6; ServiceStage API docs "Creating a
 * Technology Stack" D:0205 and the Terraform resource huaweicloud_servicestagev3_runtime_stack).
 */

export const StackParams = Type.Composite([ProjectParams, Type.Object({ runtimestack_id: Type.String({ minLength: 1, maxLength: 64 }) })]);

const StackName = Type.String({ minLength: 2, maxLength: 64, pattern: '^[A-Za-z0-9/_-]+$' });
/** An enum as JSON Schema `enum`, so that a bad value is reported with the allowed ones. */
const oneOf = <T extends string>(values: readonly T[]) => Type.Unsafe<T>({ type: 'string', enum: [...values] });
const DeployModeWire = oneOf(['container', 'virtualmachine'] as const);
/** The spec names Java | Tomcat; OpenStage accepts every type it can run. */
const StackTypeWire = oneOf(STACK_TYPES);
const StackVersion = Type.String({ minLength: 5, maxLength: 64, pattern: '^[0-9]+\\.[0-9]+\\.[0-9]+$' });
const StackSpecWire = Type.Object({
  sdk: Type.Optional(Type.String({ maxLength: 1024 })),
  os: Type.Optional(Type.String({ maxLength: 1024 })),
  parameters: Type.Optional(Type.Record(Type.String({ maxLength: 128 }), Type.String({ maxLength: 2048 }))),
});
const StackDescription = Type.String({ maxLength: 512 });

export const CreateStackBody = Type.Object({
  name: StackName,
  deploy_mode: DeployModeWire,
  type: StackTypeWire,
  version: StackVersion,
  spec: Type.Optional(StackSpecWire),
  description: Type.Optional(StackDescription),
});

/** Every field optional; deploy_mode and type may be resent but not changed. */
export const UpdateStackBody = Type.Object({
  name: Type.Optional(StackName),
  deploy_mode: Type.Optional(DeployModeWire),
  type: Type.Optional(StackTypeWire),
  version: Type.Optional(StackVersion),
  spec: Type.Optional(StackSpecWire),
  description: Type.Optional(StackDescription),
});

/** Release (`Supported`) or cancel the release (`Disable`) of custom stacks; the action is checked by the service (SVCSTG.00100418). */
export const StackActionBody = Type.Object({
  action: Type.String({ minLength: 1, maxLength: 64 }),
  parameters: Type.Object({ runtimestacks: Type.Array(Type.Object({ id: Type.String({ minLength: 1, maxLength: 64 }) }), { minItems: 1, maxItems: 100 }) }),
});

export const RuntimeStackWire = Type.Object({
  id: Type.String(),
  name: Type.String(),
  project_id: Type.String(),
  deploy_mode: Type.String(),
  type: Type.String(),
  version: Type.String(),
  spec: Type.Unknown(),
  description: Type.String(),
  system: Type.Integer(),
  status: Type.String(),
  creator: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  component_count: Type.Integer(),
  url: Type.String(),
});

/**
 * The list answers both `runtime_stacks` (the API docs and Terraform read it) and
 * `runtimestacks` (the key the official SDKs' ShowRuntimeStacksResponse model reads).
 */
export const StackList = Type.Object({ runtime_stacks: Type.Array(RuntimeStackWire), runtimestacks: Type.Array(RuntimeStackWire), total: Type.Integer() });

export const InnerImageList = Type.Object({ runtime_stacks: Type.Array(Type.Object({ type: Type.String(), url: Type.String() })) });

/** The wire object of a stack. */
export function stackToWire(s: RuntimeStackView) {
  return {
    id: s.id,
    name: s.name,
    project_id: s.projectId,
    deploy_mode: s.deployMode,
    type: s.type,
    version: s.version,
    spec: s.spec,
    description: s.description,
    system: s.system ? 1 : 0,
    status: s.status,
    creator: s.creator,
    create_time: s.createdAtMs,
    update_time: s.updatedAtMs,
    component_count: s.componentCount,
    url: s.url,
  };
}
