import { hashTextSparse } from '../../lib/text-hashing';
import type { Checkpoint } from './checkpoint';
import { predictProbabilities } from './model';

export interface PredictRow {
  prompt: string;
  response_a: string;
  response_b: string;
  /** Raw feature values in the checkpoint's feature column order. */
  features: number[];
}

/** p(model_a wins) of each row under a checkpoint, computed by the trainer's own forward pass (dropout off). */
export function predictRows(c: Checkpoint, rows: PredictRow[]): Float64Array {
  const text = rows.map((r) => hashTextSparse(r.prompt, r.response_a, r.response_b, c.dims.textHashDim));
  const features = rows.flatMap((r) => {
    if (r.features.length !== c.dims.featureCount) {
      throw new RangeError(`predictRows: a row has ${r.features.length} features, the model takes ${c.dims.featureCount}`);
    }
    return r.features;
  });
  return predictProbabilities(c.dims, c.params, c.scaling, { text, features });
}
