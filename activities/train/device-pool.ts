import { UserInputError } from '../../lib/errors';

/**
 * The devices of one worker process: each running shard holds one index, so two shards never share
 * a GPU. On a CPU-only machine the indexes are worker slots.
 */
export class DevicePool {
  private readonly free: number[];
  private readonly waiting: ((index: number) => void)[] = [];
  private claims: Promise<void> = Promise.resolve();

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => i);
  }

  async acquire(): Promise<number> {
    const index = this.free.shift();
    if (index !== undefined) return index;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /**
   * `count` devices for one DDP launch. Multi-device claims queue behind each other, so two of them
   * never each hold part of the pool while waiting for the rest.
   */
  async acquireMany(count: number): Promise<number[]> {
    if (count > this.size) throw new UserInputError(`trainer.gpus: ${count} DDP processes need ${count} devices; this worker has ${this.size} (ARENA_DEVICES)`);
    const claim = this.claims.then(async () => {
      const held: number[] = [];
      for (let k = 0; k < count; k++) held.push(await this.acquire());
      return held;
    });
    this.claims = claim.then(() => undefined);
    return claim;
  }

  release(index: number): void {
    const next = this.waiting.shift();
    if (next) next(index);
    else this.free.push(index);
  }
}
