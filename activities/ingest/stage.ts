import path from 'node:path';
import { resolveDataFiles } from '../../lib/data-files';
import { defineStage, type Json } from '../../lib/stage';
import { sourceOf } from '../../lib/stage-contract/source-of';
import { generateSynthetic, ingest } from './ingest';

/** Reads the competitions' files (or generates a synthetic set when there are none) into one table. */
export const ingestStage = defineStage({
  activity: 'ingest',
  source: sourceOf(__filename),
  config: ['data', 'seed'],
  outputs: ['ingested.parquet', 'ingest_report.json', 'test.parquet?'],
  externalInputs: (config, repoRoot) => {
    const files = resolveDataFiles(config.data, repoRoot);
    return [...files.train.map((s) => s.path), ...(files.test ? [files.test.path] : [])];
  },
  async run(ctx) {
    const files = resolveDataFiles(ctx.config.data, ctx.repoRoot);
    let { train, test } = files;
    if (files.synthetic) {
      // The generated source files are kept beside the logs, for a look at what was ingested.
      const trainPath = path.join(ctx.logDir, 'synthetic', 'train.parquet');
      const testPath = path.join(ctx.logDir, 'synthetic', 'test.parquet');
      ctx.log(`no training data under ${files.dataDir}: generating ${ctx.config.data.synthetic_rows} synthetic rows`);
      await generateSynthetic({ rows: ctx.config.data.synthetic_rows, testRows: Math.ceil(ctx.config.data.synthetic_rows / 10), seed: ctx.config.seed, trainPath, testPath });
      train = [{ format: 'wsdm', path: trainPath }];
      test ??= { format: 'wsdm', path: testPath };
    }
    const report = await ingest({ train, test, turnSeparator: ctx.config.data.turn_separator, maxTextChars: ctx.config.data.max_text_chars, outDir: ctx.outDir, log: ctx.log });
    return { report: report as unknown as Json, synthetic: files.synthetic };
  },
});
