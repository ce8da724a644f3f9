// Ownership on several servers (issue #16): a job or an exclusive engine whose server lost its
// lease is taken over — the job failed with the reason or resumed, the engine started again.
// PostgreSQL only.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import pg from 'pg';
import type { TaskSpec } from '../../src/deploy/types.js';
import { CLUSTERED, eventually, startCluster, type ClusterMember } from '../helpers/cluster.js';
import { ADMIN, IAM_OVERRIDES, login } from '../helpers/iam-client.js';
import { call } from '../helpers/registry-client.js';

const skip = !CLUSTERED && 'cluster tests run on PostgreSQL';

/** A task that runs until its job is aborted. */
const forever: TaskSpec = { name: 'wait', type: 'wait', timeoutMs: 600_000, run: ({ signal }) => new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason as Error))) };

/** Ends a server's lease as if it had not renewed it in time: its row goes. */
async function endLease(member: ClusterMember): Promise<string> {
  const id = member.server.cluster.serverId();
  const client = new pg.Client({ connectionString: member.server.db.url });
  await client.connect();
  await client.query('DELETE FROM core_servers WHERE server_id = $1', [id]);
  await client.end();
  return id;
}

describe('ownership on two servers', { skip }, () => {
  it('fails with the reason a job whose server lost its lease, and resumes one whose type has a resumer', async (t) => {
    const { members } = await startCluster(t, 2);
    const [a, b] = members as [ClusterMember, ClusterMember];
    const done: TaskSpec = { name: 'finish', type: 'finish', timeoutMs: 60_000, run: async ({ log }) => log('finished after the takeover') };
    for (const m of members) m.server.jobs.setResumer('resumable', async () => [done]);
    const plain = await b.server.jobs.submit({ project: 'p', jobType: 'plain', targetId: 'one', tasks: [forever] });
    const resumable = await b.server.jobs.submit({ project: 'p', jobType: 'resumable', targetId: 'two', tasks: [forever] });
    await eventually(async () => (await a.server.jobs.get('p', plain.job.jobId)).tasks[0]!.status === 'RUNNING', 10_000, 'the job running on B');
    const old = await endLease(b);
    await eventually(async () => (await a.server.jobs.get('p', plain.job.jobId)).job.status !== 'RUNNING', 30_000, 'the job to end');
    const failed = await a.server.jobs.get('p', plain.job.jobId);
    assert.equal(failed.job.status, 'FAILED');
    assert.match(failed.tasks[0]!.messages.join('\n'), new RegExp(`interrupted: server ${old}, which ran this job, stopped`));
    await eventually(async () => (await a.server.jobs.get('p', resumable.job.jobId)).job.status !== 'RUNNING', 30_000, 'the resumed job to end');
    const resumed = await a.server.jobs.get('p', resumable.job.jobId);
    assert.equal(resumed.job.status, 'SUCCEEDED');
    assert.match(resumed.tasks[0]!.messages.join('\n'), /resumed by server .* after server .* stopped[\s\S]*finished after the takeover/);
    assert.notEqual(b.server.cluster.serverId(), old, 'B came back under a new id');
  });

  it('shows an engine created on one server as Available on the other, and starts it again when its owner lost its lease', async (t) => {
    const { members } = await startCluster(t, 2, { ...IAM_OVERRIDES, 'engines.portMin': 0, 'engines.stopOnShutdown': true, 'engines.usageCacheMs': 0 });
    const [a, b] = members as [ClusterMember, ClusterMember];
    const token = (await login(a.url, ADMIN.name, ADMIN.password)).headers.get('x-subject-token')!;
    const em = (m: ClusterMember, method: string, path: string, body?: unknown) => call(m.url, method, `/v2/${ADMIN.projectId}/enginemgr${path}`, { ...(body !== undefined ? { body } : {}), headers: { 'x-auth-token': token } });
    const created = await em(a, 'POST', '/engines', { name: `e${Date.now().toString(36)}`, payment: '1', flavor: 'cse.s1.small2', azList: ['az1'], authType: 'NONE', specType: 'CSE2' });
    assert.equal(created.status, 200, created.text);
    const id = created.body.id as string;
    t.after(async () => {
      for (const m of members) await m.server.engines.stopAllProcesses();
    });
    await eventually(async () => (await em(b, 'GET', `/engines/${id}`)).body.status === 'Available', 120_000, 'the engine Available, seen through B');
    const before = (await em(b, 'GET', `/engines/${id}`)).body;
    const owner = await endLease(a);
    // A stops its engine process as it lets go; the server it is handed to starts it again.
    const answers = async (address: string): Promise<boolean> => {
      try {
        return (await fetch(`${address}/health`)).status === 200;
      } catch {
        return false;
      }
    };
    let seen = '';
    await eventually(async () => {
      const r = await em(b, 'GET', `/engines/${id}`);
      const now = await members[0]!.server.ownership.ownerOf('engine', id);
      const up = r.body.status === 'Available' && now !== owner && (await answers(r.body.externalEntrypoint.externalAddress));
      seen = `status ${r.body.status}, owner ${now} (was ${owner}; A is now ${a.server.cluster.serverId()}, B ${b.server.cluster.serverId()}), answering ${up}`;
      return up;
    }, 120_000, 'the engine taken over, Available and answering again').catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${seen}`);
    });
    const after = (await em(a, 'GET', `/engines/${id}`)).body;
    assert.equal(after.status, 'Available');
    assert.equal(after.externalEntrypoint.externalAddress, before.externalEntrypoint.externalAddress, 'same address');
  });
});
