/**
 * What a stable route answers when it cannot pass a request on (src/routes/README.md). The
 * body is Huawei-style JSON, `{"error_code": "<code>", "error_msg": "<message>: <detail>"}`,
 * as the ServiceStage APIs answer, with the status below.
 */
export const RouteCodes = Object.freeze({
  UnknownHost: { code: 'ROUTE.0404', status: 404, message: 'No component answers at this host name' },
  BadGateway: { code: 'ROUTE.0502', status: 502, message: 'The replica did not answer' },
  NoReadyReplica: { code: 'ROUTE.0503', status: 503, message: 'The component has no ready replica' },
  GatewayTimeout: { code: 'ROUTE.0504', status: 504, message: 'The replica did not answer in time' },
} as const);

export type RouteCode = keyof typeof RouteCodes;

/** The body of a route's error answer. */
export function routeErrorBody(name: RouteCode, detail: string): string {
  const c = RouteCodes[name];
  return JSON.stringify({ error_code: c.code, error_msg: detail ? `${c.message}: ${detail}` : c.message });
}
