import path from 'node:path';
import { resolveDataFiles } from '../../lib/data-files';
import type { Json, StageDefinition } from '../../lib/stage';
import { generateSynthetic, ingest } from './ingest';

/** Reads the competitions' files (or generates a synthetic set when there are none) into one table. */
export const ingestStage: StageDefinition = {
  activity: 'ingest',
  configSections: ['data', 'seed'],
  codePaths: ['activities/ingest', 'lib/data-files.ts', 'lib/data-roots.ts', 'lib/duckdb.ts'],
  externalInputs: (config, repoRoot) => {
    const files = resolveDataFiles(config.data, repoRoot);
    return [...files.train.map((s) => s.path), ...(files.test ? [files.test.path] : [])];
  },
  async run(ctx) {
    const files = resolveDataFiles(ctx.config.data, ctx.repoRoot);
    let { train, test } = files;
    if (files.synthetic) {
      const trainPath = path.join(ctx.outDir, 'synthetic', 'train.parquet');
      const testPath = path.join(ctx.outDir, 'synthetic', 'test.parquet');
      ctx.log(`no training data under ${files.dataDir}: generating ${ctx.config.data.synthetic_rows} synthetic rows`);
      await generateSynthetic({ rows: ctx.config.data.synthetic_rows, testRows: Math.ceil(ctx.config.data.synthetic_rows / 10), seed: ctx.config.seed, trainPath, testPath });
      train = [{ format: 'wsdm', path: trainPath }];
      test ??= { format: 'wsdm', path: testPath };
    }
    const report = await ingest({ train, test, turnSeparator: ctx.config.data.turn_separator, maxTextChars: ctx.config.data.max_text_chars, outDir: ctx.outDir });
    return { report: report as unknown as Json, synthetic: files.synthetic };
  },
};
