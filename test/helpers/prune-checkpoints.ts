// A child process that prunes a checkpoint folder, for tests that kill it in the middle.
import { objectStoreFromEnv } from '../../lib/store/object-store';
import { RunStore } from '../../lib/store/run-store';

const [root, checkpointRef, keep] = process.argv.slice(2);
new RunStore(root!, objectStoreFromEnv())
  .pruneCheckpoints(checkpointRef!, Number(keep))
  .then((pruned) => console.log(`pruned ${pruned.join(',')}`))
  .catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
