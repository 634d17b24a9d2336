import { parentPort, workerData } from 'node:worker_threads';
import { TextCounter } from './text-counts';
import { measureBatch, TextBatch } from './text-measures';
import { TrigramCosine } from './trigram-similarity';

/** Worker thread of text-measure-pool.ts: says when it has started, then measures each batch it is sent, in order. */
const counter = new TextCounter(new Uint8Array((workerData as { kinds: SharedArrayBuffer }).kinds));
const cosine = new TrigramCosine();

parentPort!.on('message', (batch: TextBatch) => {
  const result = measureBatch(batch, counter, cosine);
  parentPort!.postMessage(result, [result.counts.buffer as ArrayBuffer, result.similarity.buffer as ArrayBuffer]);
});
parentPort!.postMessage('started');
