import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEXT_HASHING } from '../../lib/text-hashing';
import { readCheckpoint, type Checkpoint } from './checkpoint';
import { writeAtomically } from '../../lib/duckdb';
import { readFeatureNames } from '../../lib/feature-columns';
import { emit, log } from './events';
import { UserInputError } from '../../lib/errors';
import { buildOnnxModel, ONNX_INPUT_FEATURES, ONNX_INPUT_TEXT, ONNX_OPSET, ONNX_OUTPUT } from './onnx-graph';
import type { ExportSpec } from './spec';

/** model.json: what a consumer needs to build the ONNX inputs, and the training history for the report. */
export function modelDescription(c: Checkpoint) {
  const d = c.dims;
  return {
    kind: 'cpu_mlp',
    onnx: 'model.onnx',
    opset: ONNX_OPSET,
    inputs: [
      { name: ONNX_INPUT_TEXT, dtype: 'float32', shape: ['N', 3 * d.textHashDim], content: 'hashTextVector(prompt, response_a, response_b, text_hash_dim) of lib/text-hashing.ts' },
      { name: ONNX_INPUT_FEATURES, dtype: 'float32', shape: ['N', d.featureCount], content: 'raw feature values in feature_columns order; standardised inside the graph' },
    ],
    output: { name: ONNX_OUTPUT, dtype: 'float32', shape: ['N', 1], content: 'probability that model_a wins' },
    text_hashing: { ...TEXT_HASHING, text_hash_dim: d.textHashDim },
    feature_columns: c.featureColumns,
    dims: { text_hash_dim: d.textHashDim, text_dim: d.textDim, feature_count: d.featureCount, feature_dim: d.featureDim, hidden_dim: d.hiddenDim },
    step: c.state.step,
    stopped_early: c.state.earlyStopping.stopped,
    history: {
      train_loss_per_step: c.state.history.train.map(({ shard, round, step, epoch, rows, loss }) => ({ shard, round, step, epoch, rows, loss })),
      epochs: c.state.history.valid,
    },
  };
}

/** The `export` verb: model.onnx and model.json, each written under a temporary name and renamed. */
export async function exportCommand(spec: ExportSpec): Promise<void> {
  const c = readCheckpoint(spec.checkpoint);
  if (spec.feature_columns) {
    const expected = readFeatureNames(spec.feature_columns);
    if (expected.join('\u0000') !== c.featureColumns.join('\u0000')) {
      throw new UserInputError(`${spec.feature_columns}: feature columns differ from those of checkpoint ${spec.checkpoint}`);
    }
  }
  const onnxPath = path.join(spec.output_dir, 'model.onnx');
  const jsonPath = path.join(spec.output_dir, 'model.json');
  await writeAtomically([onnxPath, jsonPath], async ([onnxTemp, jsonTemp]) => {
    writeFileSync(onnxTemp!, buildOnnxModel(c));
    writeFileSync(jsonTemp!, `${JSON.stringify(modelDescription(c), null, 2)}\n`);
  });
  log(`exported step ${c.state.step} to ${onnxPath}`);
  emit({ event: 'done', model: onnxPath });
}
