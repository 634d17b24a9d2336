import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { featureColumnsFileSchema } from '../lib/feature-columns';
import { trainerSpecJsonSchema } from '../lib/trainer-spec';

const COMMENT = 'Generated from zod by `npm run gen:schemas`; do not edit.';

/**
 * The JSON Schemas generated from zod for code in other languages (the GPU trainer), by path from
 * the repository root. They are committed, since the Python trainer ships without Node;
 * test/schemas.test.ts fails when one is stale.
 */
export function generatedSchemas(): Map<string, string> {
  const featureColumns = z.toJSONSchema(featureColumnsFileSchema, { io: 'output', unrepresentable: 'throw' });
  const text = (schema: Record<string, unknown>) => `${JSON.stringify(schema, null, 2)}\n`;
  return new Map([
    ['trainers/gpu/arena_trainer/spec.schema.json', text(trainerSpecJsonSchema())],
    ['trainers/gpu/arena_trainer/feature_columns.schema.json', text({ $comment: `${COMMENT} Source: lib/feature-columns.ts.`, ...featureColumns })],
  ]);
}

const REPO_ROOT = path.resolve(__dirname, '..');

if (require.main === module) {
  for (const [file, text] of generatedSchemas()) {
    fs.writeFileSync(path.join(REPO_ROOT, file), text);
    console.log(`wrote ${file}`);
  }
}
