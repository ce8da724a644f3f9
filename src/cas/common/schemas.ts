import { Type, type Static } from '@sinclair/typebox';

/**
 * Wire pieces every ServiceStage v3 resource shares (servicestage.md §1). Strings carry
 * their limits so that a bad value is refused by the schema with the field named.
 */

/** `{project}` path parameter of every `/v3/{project}/cas/...` route. */
export const ProjectParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }) });

/** Resource names (environment, application, component, config group/file): 2–64, letter first, letter or digit last. */
export const ResourceName = Type.String({ minLength: 2, maxLength: 64, pattern: '^[A-Za-z][A-Za-z0-9_-]*[A-Za-z0-9]$' });

/**
 * `enterprise_project_id`: "0" (the default enterprise project) or a UUID-like id; "" means
 * the default too — the Terraform provider always sends it, empty when the user set none.
 */
export const EnterpriseProjectId = Type.String({ maxLength: 64, pattern: '^[A-Za-z0-9_-]*$' });

/** One label: `{key, value}` (labels are always an array of these, never a map). */
export const Label = Type.Object({ key: Type.String({ minLength: 1, maxLength: 128 }), value: Type.String({ maxLength: 255 }) });

/** `labels`: the full list; an empty list clears. */
export const Labels = Type.Array(Label, { maxItems: 20 });
export type LabelList = Static<typeof Labels>;

/** Common list query (servicestage.md §1 Pagination). */
export const ListQuery = Type.Object({
  limit: Type.Optional(Type.Integer({ minimum: 0, maximum: 100 })),
  offset: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Unknown values fall back to create_time, as the real API does. */
  order_by: Type.Optional(Type.String({ maxLength: 64 })),
  order: Type.Optional(Type.Union([Type.Literal('desc'), Type.Literal('asc')])),
});
export type ListQueryWire = Static<typeof ListQuery>;

/** The Huawei error body, for response schemas. */
export const ErrorBody = Type.Object({ error_code: Type.String(), error_msg: Type.String() });
