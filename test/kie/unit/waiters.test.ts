import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FakeClock } from '../../../src/core/clock.js';
import { labelFormat } from '../../../src/kie/validate.js';
import { WaiterHub, type WaitSpec } from '../../../src/kie/waiters.js';

const spec = (labels: Record<string, string>, exact = false, project = 'p'): WaitSpec => ({ domain: 'd', project, labels, labelFormat: labelFormat(labels), exact });
const change = (labels: Record<string, string>, project = 'p') => ({ domain: 'd', project, labels, labelFormat: labelFormat(labels) });

describe('WaiterHub', () => {
  it('a change looks only at waiters that could match, even when they all share a broad label', async () => {
    const hub = new WaiterHub(new FakeClock(0));
    const held = Array.from({ length: 10_000 }, (_, i) => hub.wait(spec({ app: 'wake', w: String(i) }), 60_000));
    assert.equal(hub.size(), 10_000);
    assert.equal(hub.notify(change({ app: 'wake', w: '4242' })), 1);
    assert.ok(hub.lastChecked <= 2, `checked ${hub.lastChecked} waiters`);
    assert.equal(await held[4242]!.held, true);
    assert.equal(hub.notify(change({ app: 'wake' })), 0, 'a kv without w matches none of them');
    assert.equal(hub.size(), 9_999);
  });

  it('wakes contains, label-less and exact waiters as the list would match them', async () => {
    const hub = new WaiterHub(new FakeClock(0));
    const contains = hub.wait(spec({ app: 'a' }), 1000);
    const all = hub.wait(spec({}), 1000);
    const exact = hub.wait(spec({ app: 'a' }, true), 1000);
    const exactNone = hub.wait(spec({}, true), 1000);
    const other = hub.wait(spec({ app: 'a' }, false, 'q'), 1000);
    assert.equal(hub.notify(change({ app: 'a', svc: 's' })), 2);
    assert.equal(await contains.held, true);
    assert.equal(await all.held, true);
    assert.equal(hub.notify(change({})), 1);
    assert.equal(await exactNone.held, true);
    assert.equal(hub.notify(change({ app: 'a' })), 1);
    assert.equal(await exact.held, true);
    other.cancel();
    assert.equal(await other.held, false);
    assert.equal(hub.size(), 0);
  });

  it('times out on the clock and forgets the waiter; cancel and a second settle are no-ops', async () => {
    const clock = new FakeClock(0);
    const hub = new WaiterHub(clock);
    const w = hub.wait(spec({ app: 'a' }), 5000);
    clock.advance(4999);
    assert.equal(hub.size(), 1);
    clock.advance(1);
    assert.equal(await w.held, false);
    assert.equal(hub.size(), 0);
    w.cancel();
    assert.equal(hub.notify(change({ app: 'a' })), 0);
    assert.equal(clock.pendingTimers(), 0);
  });
});
