import { createInterface } from 'node:readline';
import { log } from './events';

/**
 * Watches the requests the activity writes to stdin (docs/trainer-protocol.md): one JSON object a
 * line. `{"command":"preempt"}` calls `onPreempt` (checkpoint now, then exit pre-empted); end of file
 * means the activity's worker is gone, so the process exits at once.
 */
export function watchStdin(onPreempt: () => void, onEnd: () => void): void {
  const lines = createInterface({ input: process.stdin });
  lines.on('line', (line) => {
    if (line.trim() === '') return;
    let request: unknown;
    try {
      request = JSON.parse(line);
    } catch {
      request = undefined;
    }
    if (typeof request === 'object' && request !== null && (request as { command?: unknown }).command === 'preempt') onPreempt();
    else log(`ignored an unknown stdin request: ${line.slice(0, 200)}`);
  });
  lines.on('close', onEnd);
}
