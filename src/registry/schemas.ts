import { Type } from '@sinclair/typebox';

/**
 * TypeBox wire contract of the registry routes (servicecomb.md §1.2). Field-level rules
 * (name patterns, version segments, lease clamping) live in validate.ts so that their
 * error details match the service center's; these schemas pin the request shapes.
 */
const Str = Type.String();
const StrMap = Type.Record(Type.String(), Type.String());

// `project` is absent on the legacy `/registry/v3` routes (project fixed to `default`).
const Project = Type.Optional(Str);
export const ProjectParams = Type.Object({ project: Project });
export const ServiceParams = Type.Object({ project: Project, serviceId: Str });
export const SchemaParams = Type.Object({ project: Project, serviceId: Str, schemaId: Str });
export const InstanceParams = Type.Object({ project: Project, serviceId: Str, instanceId: Str });
export const TagParams = Type.Object({ project: Project, serviceId: Str, key: Str });

export const CreateServiceBody = Type.Object({
  service: Type.Object({}, { additionalProperties: true }),
  tags: Type.Optional(Type.Unknown()),
  instances: Type.Optional(Type.Array(Type.Unknown())),
  rules: Type.Optional(Type.Unknown()),
});
export const PropertiesBody = Type.Object({ properties: Type.Optional(StrMap) });
export const DeleteServicesBody = Type.Object({ serviceIds: Type.Array(Type.Unknown()), force: Type.Optional(Type.Boolean()) });
export const PutSchemaBody = Type.Object({ schema: Type.Optional(Type.Unknown()), summary: Type.Optional(Type.Unknown()) });
export const PutSchemasBody = Type.Object({ schemas: Type.Array(Type.Unknown()) });
export const RegisterInstanceBody = Type.Object({ instance: Type.Object({}, { additionalProperties: true }) });
export const HeartbeatsBody = Type.Object({ instances: Type.Array(Type.Unknown()) });
export const StatusByPropertiesBody = Type.Object({ matches: Type.Unknown(), status: Type.Unknown() });
export const TagsBody = Type.Object({ tags: Type.Optional(Type.Unknown()) });
export const DependenciesBody = Type.Object({ dependencies: Type.Array(Type.Unknown()) });
export const BatchFindBody = Type.Object({
  services: Type.Optional(Type.Array(Type.Object({ service: Type.Object({}, { additionalProperties: true }), rev: Type.Optional(Str) }))),
  instances: Type.Optional(Type.Array(Type.Object({ instance: Type.Object({}, { additionalProperties: true }), rev: Type.Optional(Str) }))),
});

export const FindQuery = Type.Object({
  appId: Type.Optional(Str),
  serviceName: Type.Optional(Str),
  env: Type.Optional(Str),
  version: Type.Optional(Str),
  tags: Type.Optional(Str),
  rev: Type.Optional(Str),
});
export const ExistenceQuery = Type.Object({
  type: Type.Optional(Str),
  appId: Type.Optional(Str),
  serviceName: Type.Optional(Str),
  version: Type.Optional(Str),
  env: Type.Optional(Str),
  serviceId: Type.Optional(Str),
  schemaId: Type.Optional(Str),
});
