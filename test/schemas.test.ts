import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { runConfigSchema } from '../lib/config/schema';
import { trainerSpecJsonSchema } from '../lib/trainer-spec';
import { generatedSchemas } from '../scripts/gen-schemas';

const REPO = path.resolve(__dirname, '..');

describe('schemas generated from zod', () => {
  it('every committed copy equals what `npm run gen:schemas` writes now', () => {
    const generated = generatedSchemas();
    assert.ok(generated.size > 0);
    for (const [file, text] of generated) {
      assert.equal(fs.readFileSync(path.join(REPO, file), 'utf8'), text, `${file} is stale: run npm run gen:schemas and commit it`);
    }
  });

  it("the spec's config is the run config's own sections, so a change there reaches every trainer", () => {
    const defs = trainerSpecJsonSchema()['$defs'] as Record<string, { properties: Record<string, unknown> }>;
    const { $schema: _ignored, ...trainer } = z.toJSONSchema(runConfigSchema.shape.trainer, { io: 'output' });
    assert.deepEqual(defs['trainer_config']!.properties['trainer'], trainer);
    assert.deepEqual(Object.keys(defs).sort(), ['export', 'merge', 'predict', 'train', 'trainer_config']);
  });
});
