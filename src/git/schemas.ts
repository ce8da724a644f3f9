import { Type, type Static } from '@sinclair/typebox';
import type { Authorization } from './types.js';

/** Wire contract of the v1 Git API (servicestage.md §9). */

export const ProjectParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }) });
export const RepoTypeParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), repo_type: Type.String({ minLength: 1, maxLength: 32 }) });
export const AuthNameParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), name: Type.String({ minLength: 1, maxLength: 64 }) });
export const NamespaceParams = Type.Object({ project: Type.String({ minLength: 1, maxLength: 64 }), namespace: Type.String({ minLength: 1, maxLength: 255 }) });
export const RepoParams = Type.Object({
  project: Type.String({ minLength: 1, maxLength: 64 }),
  namespace: Type.String({ minLength: 1, maxLength: 255 }),
  /** Project id or name, `/` written as `:`. */
  repo: Type.String({ minLength: 1, maxLength: 255 }),
});
export const TagParams = Type.Composite([RepoParams, Type.Object({ tag_name: Type.String({ minLength: 1, maxLength: 255 }) })]);
export const HookParams = Type.Composite([RepoParams, Type.Object({ hook_id: Type.String({ minLength: 1, maxLength: 64 }) })]);
/**
 * The file path: the rest of the URL after `{repo}/` (route wildcard `*`), with `/` written
 * as `:` (the documented form) or left as `/` — the Go and Java SDKs put nested paths in the
 * URL unescaped.
 */
export const FileParams = Type.Composite([RepoParams, Type.Object({ '*': Type.String({ minLength: 1, maxLength: 1024 }) })]);

/** Authorization name: 1–64 characters, no `/`, `:` or white space (INF: the docs give no rule). */
const AuthName = Type.String({ minLength: 1, maxLength: 64, pattern: '^[^/:\\s]+$' });

export const TagQuery = Type.Object({ tag: Type.Optional(Type.String({ maxLength: 64 })) });
export const CreatePersonalBody = Type.Object({ name: AuthName, token: Type.String({ minLength: 1, maxLength: 4096 }), host: Type.Optional(Type.String({ maxLength: 512 })) });
/**
 * Password authorization: the Huawei Cloud SDKs (Python, Go, Java `AccessPassword`) send
 * `{name, user, password}`; Terraform and golangsdk send `{name, token}` with token =
 * base64(`user:password`) (servicestage.md §9). Either form is accepted.
 */
export const CreatePasswordBody = Type.Object({
  name: AuthName,
  token: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
  user: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
  password: Type.Optional(Type.String({ minLength: 1, maxLength: 4096 })),
});
export const CreateOauthBody = Type.Object({ name: AuthName, code: Type.String({ minLength: 1, maxLength: 1024 }), state: Type.String({ minLength: 1, maxLength: 256 }) });

export const RefQuery = Type.Object({ ref: Type.String({ minLength: 1, maxLength: 255 }) });
export const OptionalRefQuery = Type.Object({ ref: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })) });
export const CloneUrlQuery = Type.Object({ clone_url: Type.String({ minLength: 1, maxLength: 2048 }) });
export const DeleteFileQuery = Type.Object({
  ref: Type.String({ minLength: 1, maxLength: 255 }),
  message: Type.String({ minLength: 1, maxLength: 4096 }),
  sha: Type.String({ minLength: 1, maxLength: 64 }),
});

export const CreateProjectBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 100 }) });
export const CreateTagBody = Type.Object({ name: Type.String({ minLength: 1, maxLength: 255 }), description: Type.String({ maxLength: 4096 }) });
export const CreateHookBody = Type.Object({ url: Type.String({ minLength: 1, maxLength: 2048, pattern: '^https?://' }), secret: Type.String({ minLength: 1, maxLength: 256 }) });
/**
 * File write body. `content` is the file text; `encoding: "base64"` (an OpenStage extension,
 * matching what GET answers) sends bytes instead.
 */
export const CreateFileBody = Type.Object({
  message: Type.String({ minLength: 1, maxLength: 4096 }),
  content: Type.String({ maxLength: 10485760 }),
  encoding: Type.Optional(Type.Union([Type.Literal('text/plain'), Type.Literal('base64')])),
});
export const UpdateFileBody = Type.Composite([CreateFileBody, Type.Object({ sha: Type.String({ minLength: 1, maxLength: 64 }) })]);
export type FileBody = Static<typeof UpdateFileBody>;

export const AuthorizationWire = Type.Object({
  name: Type.String(),
  repo_type: Type.String(),
  repo_host: Type.String(),
  repo_home: Type.String(),
  repo_user: Type.String(),
  /** Misspelt as in the real API. */
  avartar: Type.String(),
  token_type: Type.String(),
  create_time: Type.Integer(),
  update_time: Type.Integer(),
  status: Type.Integer(),
});

export const NamespaceWire = Type.Object({ id: Type.String(), name: Type.String() });
export const ProjectWire = Type.Object({ id: Type.String(), name: Type.String(), clone_url: Type.String() });
export const HookWire = Type.Object({ id: Type.String(), type: Type.String(), callback_url: Type.String() });
export const CommitWire = Type.Object({ sha: Type.String(), message: Type.String(), authored_date: Type.String() });
export const FileWire = Type.Object({ path: Type.String(), sha: Type.String(), encoding: Type.String(), content: Type.String() });
export const ErrorBody = Type.Object({ error_code: Type.String(), error_msg: Type.String() });

/** The wire form of an authorization: never the credential. */
export function authorizationToWire(a: Authorization, repoHost: string): Static<typeof AuthorizationWire> {
  return {
    name: a.name,
    repo_type: a.repoType,
    repo_host: a.repoHost || repoHost,
    repo_home: a.repoHome,
    repo_user: a.repoUser,
    avartar: a.avatar,
    token_type: a.tokenType,
    create_time: a.createdAtMs,
    update_time: a.updatedAtMs,
    status: a.status,
  };
}

/** Bytes of a file write body. @throws Error when base64 content does not decode */
export function fileBytes(body: { content: string; encoding?: string }): Buffer {
  return body.encoding === 'base64' ? Buffer.from(body.content, 'base64') : Buffer.from(body.content, 'utf8');
}
