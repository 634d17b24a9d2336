/**
 * The devices of one worker process: each running shard holds one index, so two shards never share
 * a GPU. On a CPU-only machine the indexes are worker slots.
 */
export class DevicePool {
  private readonly free: number[];
  private readonly waiting: ((index: number) => void)[] = [];

  constructor(readonly size: number) {
    this.free = Array.from({ length: size }, (_, i) => i);
  }

  async acquire(): Promise<number> {
    const index = this.free.shift();
    if (index !== undefined) return index;
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  release(index: number): void {
    const next = this.waiting.shift();
    if (next) next(index);
    else this.free.push(index);
  }
}
