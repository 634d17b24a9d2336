import { ingest, generateSynthetic } from './activities/ingest/ingest';
(async () => {
  const t0 = Date.now();
  const r = await ingest({ train: [{ format: 'lmsys', path: '/work/shared/data/lmsys-sample/train_sample.csv' }], test: { format: 'lmsys', path: '/work/shared/data/lmsys-sample/test.csv' }, turnSeparator: '\n\n', outDir: '/tmp/ddb/out1' });
  console.log(JSON.stringify(r, null, 1), Date.now() - t0);
  await generateSynthetic({ rows: 1200, testRows: 120, seed: 42, trainPath: '/tmp/ddb/syn/train.parquet', testPath: '/tmp/ddb/syn/test.parquet' });
  const r2 = await ingest({ train: [{ format: 'wsdm', path: '/tmp/ddb/syn/train.parquet' }], test: { format: 'wsdm', path: '/tmp/ddb/syn/test.parquet' }, turnSeparator: '\n\n', outDir: '/tmp/ddb/out2' });
  console.log(JSON.stringify(r2), Date.now() - t0);
})().catch((e) => { console.error('FAIL', e); process.exit(1); });
