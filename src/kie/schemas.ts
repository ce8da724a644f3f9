import { Type } from '@sinclair/typebox';

/**
 * TypeBox wire contract of the config center routes (servicecomb.md §3.3, §4.1). Field
 * rules (key and label patterns, enums, lengths) live in validate.ts so that their error
 * details match Kie's; these schemas pin the request shapes. Numbers in the query are
 * strings here and parsed by validate.ts (Kie answers 400001 with its own detail).
 */
const Str = Type.String();
const Labels = Type.Optional(Type.Union([Type.Array(Str), Str]));

export const ProjectParams = Type.Object({ project: Str });
export const KvParams = Type.Object({ project: Str, kv_id: Str });

/** `{key, value, labels?, status?, value_type?, check?, priority?}`; checked by validate.ts. */
export const CreateKvBody = Type.Object({}, { additionalProperties: true });
/** `{value?, status?}`: empty means unchanged. */
export const UpdateKvBody = Type.Object({ value: Type.Optional(Type.Unknown()), status: Type.Optional(Type.Unknown()) }, { additionalProperties: true });
export const DeleteKvsBody = Type.Object({ ids: Type.Unknown() }, { additionalProperties: true });

export const ListKvQuery = Type.Object(
  {
    key: Type.Optional(Str),
    label: Labels,
    match: Type.Optional(Str),
    status: Type.Optional(Str),
    value: Type.Optional(Str),
    offset: Type.Optional(Str),
    limit: Type.Optional(Str),
    revision: Type.Optional(Str),
    wait: Type.Optional(Str),
  },
  { additionalProperties: true },
);

export const HistoryQuery = Type.Object({ offset: Type.Optional(Str), limit: Type.Optional(Str) }, { additionalProperties: true });

export const ImportQuery = Type.Object({ override: Type.Optional(Str), label: Labels }, { additionalProperties: true });
/** `{metadata?, data:[KV]}` (open-source Kie), or the parsed `upload_file` of a multipart upload. */
export const ImportBody = Type.Object({ metadata: Type.Optional(Type.Unknown()), data: Type.Unknown() }, { additionalProperties: true });

export const ExportQuery = Type.Object({ label: Labels, match: Type.Optional(Str) }, { additionalProperties: true });
export const ExportBody = Type.Union([Type.Object({ ids: Type.Optional(Type.Array(Str)) }, { additionalProperties: true }), Type.Null()]);

export const HealthQuery = Type.Object({ mode: Type.Optional(Str) }, { additionalProperties: true });
