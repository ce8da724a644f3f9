import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { versionsBeyondLimit } from '../../../src/deploy/retention-service.js';
import { readStackSpec } from '../../../src/deploy/process/tools.js';
import type { ComponentPlan } from '../../../src/deploy/types.js';

const built = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0'].map((version) => ({ version }));

describe('versionsBeyondLimit (revision_history_limit)', () => {
  const cases: [string, string[], number, string[]][] = [
    ['keeps the limit of newest others', ['1.4.0'], 2, ['1.0.0', '1.1.0']],
    ['never the running or the gray one, whatever their age', ['1.0.0', '1.4.0'], 1, ['1.1.0', '1.2.0']],
    ['0 keeps only what runs', ['1.2.0'], 0, ['1.0.0', '1.1.0', '1.3.0', '1.4.0']],
    ['a limit above the count removes nothing', ['1.4.0'], 10, []],
  ];
  for (const [name, keep, limit, removed] of cases) {
    it(name, () => assert.deepEqual(versionsBeyondLimit(built, new Set(keep), limit), removed));
  }
});

describe('readStackSpec (custom runtime stacks on the process runtime)', () => {
  const plan = (stackType: string, spec: NonNullable<ComponentPlan['stack']>['spec'], system = false) => ({ stackType, stack: { name: 'mine', system, spec } }) as unknown as ComponentPlan;

  it('honours jdk_url on Java and Tomcat, tomcat_url on Tomcat, with their checksums', () => {
    const r = readStackSpec(plan('Tomcat', { parameters: { jdk_url: 'https://x/jdk.tar.gz', jdk_sha256: 'aa', tomcat_url: 'file:///m/t.tar.gz' } }));
    assert.deepEqual(r.tools, [{ kind: 'jdk', url: 'https://x/jdk.tar.gz', checksum: 'aa' }, { kind: 'tomcat', url: 'file:///m/t.tar.gz' }]);
    assert.deepEqual(r.notes, []);
  });

  it('says what it cannot honour or does not use', () => {
    const r = readStackSpec(plan('Nodejs', { sdk: 'node 20', os: 'EulerOS', parameters: { jdk_url: 'https://x/jdk.tar.gz', os_url: 'obs://b/os.img', color: 'blue' } }));
    assert.deepEqual(r.tools, []);
    assert.equal(r.notes.length, 4, r.notes.join('\n'));
    assert.match(r.notes[0]!, /jdk_url is not used by a Nodejs component/);
    assert.match(r.notes[1]!, /a custom OS \(spec\.os EulerOS, parameters\.os_url obs:\/\/b\/os\.img\) cannot be honoured/);
    assert.match(r.notes[2]!, /spec\.sdk node 20 is informational/);
    assert.match(r.notes[3]!, /parameters color are not used/);
  });

  it('refuses a tool URL OpenStage cannot fetch; a system stack has nothing to read', () => {
    assert.throws(() => readStackSpec(plan('Java', { parameters: { jdk_url: 'obs://bucket/jdk.tar.gz' } })), /cannot be fetched by OpenStage.*obs:\/\/ names Huawei Cloud object storage/);
    assert.deepEqual(readStackSpec(plan('Java', {}, true)), { tools: [], notes: [] });
  });
});
