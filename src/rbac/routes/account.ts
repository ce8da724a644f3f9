import type { FastifyInstance } from 'fastify';
import { sendEmptyOk } from '../../core/wire/servicecomb.js';
import type { RbacPluginOptions } from '../index.js';
import {
  AccountListReply,
  AccountParams,
  AccountReply,
  BatchCreateAccountsBody,
  BatchCreateReply,
  batchToWire,
  ChangePasswordBody,
  CreateAccountBody,
  listToWire,
  LockListReply,
  locksToWire,
  replies,
  UpdateAccountBody,
} from '../schemas.js';

/** Accounts, passwords and account locks (servicecomb.md §2). */
export function accountRoutes(app: FastifyInstance, { rbac }: RbacPluginOptions): void {
  const tags = ['rbac'];

  app.post(
    '/v4/accounts',
    { config: { permission: { resource: 'account', verb: 'create' } }, schema: { operationId: 'CreateAccount', summary: 'Create an account', tags, body: CreateAccountBody, response: replies(undefined, 400, 401, 403, 409) } },
    async (req, reply) => {
      await rbac.createAccount(req.body as object);
      return sendEmptyOk(reply);
    },
  );

  app.post(
    '/v4/accounts/batch-create',
    { config: { permission: { resource: 'account', verb: 'create' } }, schema: { operationId: 'BatchCreateAccounts', summary: 'Create 1-20 accounts', tags, body: BatchCreateAccountsBody, response: replies(BatchCreateReply, 400, 401, 403) } },
    async (req) => batchToWire(await rbac.batchCreateAccounts((req.body as { accounts: unknown }).accounts)),
  );

  app.get(
    '/v4/accounts',
    { config: { permission: { resource: 'account', verb: 'get' } }, schema: { operationId: 'ListAccounts', summary: 'List accounts', tags, response: replies(AccountListReply, 401, 403) } },
    async () => listToWire(await rbac.listAccounts()),
  );

  app.get(
    '/v4/accounts/:name',
    { config: { permission: { resource: 'account', verb: 'get' } }, schema: { operationId: 'GetAccount', summary: 'Get an account', tags, params: AccountParams, response: replies(AccountReply, 400, 401, 403) } },
    async (req) => rbac.getAccount((req.params as { name: string }).name),
  );

  app.put(
    '/v4/accounts/:name',
    { config: { permission: { resource: 'account', verb: 'update' } }, schema: { operationId: 'UpdateAccount', summary: "Change an account's roles or status", tags, params: AccountParams, body: UpdateAccountBody, response: replies(undefined, 400, 401, 403) } },
    async (req, reply) => {
      await rbac.updateAccount((req.params as { name: string }).name, req.body as object, req.rbac!);
      return sendEmptyOk(reply);
    },
  );

  app.delete(
    '/v4/accounts/:name',
    { config: { permission: { resource: 'account', verb: 'delete' } }, schema: { operationId: 'DeleteAccount', summary: 'Delete an account', tags, params: AccountParams, response: replies(undefined, 400, 401, 403) } },
    async (req, reply) => {
      await rbac.deleteAccount((req.params as { name: string }).name, req.rbac!);
      return sendEmptyOk(reply);
    },
  );

  app.post(
    '/v4/accounts/:name/password',
    { config: { permission: 'authenticated' }, schema: { operationId: 'ChangePassword', summary: 'Change a password', tags, params: AccountParams, body: ChangePasswordBody, response: replies(undefined, 400, 401, 403) } },
    async (req, reply) => {
      await rbac.changePassword((req.params as { name: string }).name, req.body as object, req.rbac!, req.ip);
      return sendEmptyOk(reply);
    },
  );

  app.get(
    '/v4/account-locks',
    { config: { permission: { resource: 'account', verb: 'get' } }, schema: { operationId: 'ListAccountLocks', summary: 'Failed-login locks in force', tags, response: replies(LockListReply, 401, 403) } },
    async () => locksToWire(await rbac.listLocks()),
  );
}
