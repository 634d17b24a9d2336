import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DevicePool } from '../activities/train/device-pool';

describe('device pool: DDP claims (issue 11)', () => {
  it('gives a DDP launch all its devices at once, and queues a second launch behind it rather than splitting the pool', async () => {
    const pool = new DevicePool(2);
    const shard = await pool.acquire();
    const first = pool.acquireMany(2);
    const second = pool.acquireMany(2);
    const order: string[] = [];
    void first.then(() => order.push('first'));
    void second.then(() => order.push('second'));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, [], 'both wait for the shard holding a device');
    pool.release(shard);
    const held = await first;
    assert.deepEqual([...held].sort(), [0, 1]);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(order, ['first'], 'the second launch holds nothing while the first runs');
    for (const device of held) pool.release(device);
    assert.deepEqual([...(await second)].sort(), [0, 1]);
  });

  it('refuses more DDP processes than the worker has devices', async () => {
    await assert.rejects(new DevicePool(2).acquireMany(3), {
      name: 'UserInputError',
      message: 'trainer.gpus: 3 DDP processes need 3 devices; this worker has 2 (ARENA_DEVICES)',
    });
  });
});
