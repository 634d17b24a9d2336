import os from 'node:os';

/** Who created a scratch folder or holds a lease: enough to tell, on the same host, a live owner from a dead one. */
export interface Owner {
  host: string;
  pid: number;
}

export function thisProcess(): Owner {
  return { host: os.hostname(), pid: process.pid };
}

/**
 * true: the owner's process runs; false: it is gone; undefined: it is on another host, where this
 * process cannot look (callers then judge by age, or leave the thing alone).
 */
export function ownerAlive(owner: Owner): boolean | undefined {
  if (owner.host !== os.hostname()) return undefined;
  try {
    process.kill(owner.pid, 0);
    return true;
  } catch (err) {
    // EPERM: the process exists but belongs to another user.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Scratch folders carry their owner in their name (`<key>.tmp-<uuid>-<pid>@<host>`): it is there from
 * the moment the folder exists, and it never enters the folder's content hashes.
 */
export function scratchSuffix(uuid: string, owner: Owner = thisProcess()): string {
  return `.tmp-${uuid}-${owner.pid}@${owner.host}`;
}

const SCRATCH = /\.tmp-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}-(\d+)@(.+)$/;

/** The owner recorded in a scratch folder's name; undefined for a name without one (older scratch folders). */
export function scratchOwner(name: string): Owner | undefined {
  const match = SCRATCH.exec(name);
  return match ? { pid: Number(match[1]), host: match[2]! } : undefined;
}
