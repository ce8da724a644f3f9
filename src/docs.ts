import { CasCodes } from './cas/errors.js';
import { DeployCodes } from './deploy/errors.js';
import { GitCodes } from './git/errors.js';
import { EngineCodes } from './engines/errors.js';
import { configMarkdown, errorsMarkdown, exampleYaml } from './core/config-docs.js';
import { KieCodes } from './kie/errors.js';
import { RbacCodes } from './rbac/errors.js';
import { RegistryCodes } from './registry/errors.js';
import { IamCodes } from './iam/errors.js';
import { HttpCodes } from './core/wire/http.js';
import { RouteCodes } from './routes/errors.js';

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
      {
        area: 'Engine RBAC, `/v4/token`, `/v4/accounts`, `/v4/roles` (and the 401/403 answers of every protected registry and config center call)',
        format: 'ServiceComb body as above; HTTP status = code / 1000.',
        codes: Object.values(RbacCodes).map((c) => ({ code: c.code, status: Math.floor(c.code / 1000), message: c.message })),
      },
      {
        area: 'Config center (Kie), `/v1/{project}/kie`, `/v1/health`',
        format: 'Body `{"errorCode":"<code as string>","errorMessage":"<message>","detail":"<free text, omitted when empty>"}` pretty-printed with a 1-space indent; HTTP status = code / 1000 (real 404, 409 and 422 here). Import items that fail carry the code as a number in `error_code`.',
        codes: Object.values(KieCodes).map((c) => ({ code: c.code, status: Math.floor(c.code / 1000), message: c.message })),
      },
      {
        area: 'ServiceStage application management, `/v3/{project}/cas`',
        format: 'Body `{"error_code":"<code>","error_msg":"<message>: <detail>"}`. Not-found on environment, application and component paths is 401 SVCSTG.00100401, as the real API answers; IAM failures are APIGW.0301 (401) and APIGW.0302 (403).',
        codes: Object.values(CasCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
      {
        area: 'Deployment jobs, `/v3/{project}/cas/jobs`',
        format: 'Huawei body as above.',
        codes: Object.values(DeployCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
      {
        area: 'Git repository access, `/v1/{project}/git`',
        format: 'Body `{"error_code":"<code>","error_msg":"<message>: <detail>"}`. The documented codes are SVCSTG.REPO.0400–0403 and 0450–0452 (all 400); the others are OpenStage\'s for cases the docs leave open. IAM failures are APIGW.0301 (401) and APIGW.0302 (403). Smart HTTP under `/git/{project}/...` answers plain text with 401 + `WWW-Authenticate: Basic` or 404.',
        codes: Object.values(GitCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
      {
        area: 'IAM-compatible identity, `/v3/auth/tokens`, `/v3/projects`, `/v3/users`, `/v3.0/OS-*` (and the IAM check of every Huawei-style API)',
        format: 'Keystone body `{"error":{"code":<status>,"message":"<message>: <detail>","title":"<reason>"},"error_code":"<code>","error_msg":"<message>: <detail>"}` on the IAM routes; the APIGW codes of the IAM check are rendered in the format of the API that was called. IAM.0102 comes with `Retry-After`.',
        codes: Object.values(IamCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
      {
        area: 'The HTTP layer, on every API (load shedding, timeouts, header size, mutual TLS)',
        format: 'Each answer in the addressed API\'s own format: the ServiceComb code on the registry, RBAC and config center (status = code / 1000), the APIGW code on the Huawei-style APIs. 429 comes with `Retry-After`. APIGW.0308 is Huawei API Gateway\'s throttling code; the others are OpenStage\'s.',
        codes: Object.values(HttpCodes).flatMap((c) => [
          { code: String(c.serviceComb), status: c.status, message: c.message },
          { code: c.huawei, status: c.status, message: c.message },
        ]),
      },
      {
        area: 'CSE engine management, `/v2/{project}/enginemgr`',
        format: 'Huawei body `{"error_code":"<code>","error_msg":"<message>: <detail>"}`. An unknown or deleted engine is 400 SVCSTG.00501116 (what the Terraform provider reads as "deleted"); IAM failures are APIGW.0301 (401) and APIGW.0302 (403).',
        codes: Object.values(EngineCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
      {
        area: 'Stable routes to components, `<component>.<application>.<routes.domain>` on the server port (src/routes/README.md)',
        format: 'What a route answers when it cannot pass a request on to a replica: Huawei body `{"error_code":"<code>","error_msg":"<message>: <detail>"}`; a 503 carries `Retry-After: 1`. Everything else is the component\'s own answer.',
        codes: Object.values(RouteCodes).map((c) => ({ code: c.code, status: c.status, message: c.message })),
      },
    ]),
  };
}
