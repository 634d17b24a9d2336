import { after, before } from 'node:test';

/**
 * Sets environment variable `name` to `value` for the enclosing describe (a `before` hook) and puts back
 * what it was afterwards (an `after` hook), so that it does not leak into the file's other suites. The
 * workers read such settings when an activity runs, and pass them to the trainer processes they start then.
 */
export function suiteEnv(name: string, value: string): void {
  let previous: string | undefined;
  before(() => {
    previous = process.env[name];
    process.env[name] = value;
  });
  after(() => {
    if (previous === undefined) delete process.env[name];
    else process.env[name] = previous;
  });
}
