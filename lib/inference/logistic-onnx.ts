import * as fs from 'node:fs';
import * as path from 'node:path';
import { onnx } from 'onnx-proto';
import { TEXT_HASHING } from '../text-hashing';
import { MANIFEST_FILE, MODEL_FILE } from './model-manifest';

/**
 * A logistic-regression graph with the model contract's inputs and output:
 * p_a = sigmoid(text · textWeights + features · featureWeights + bias).
 * It stands in for a trained model in tests and benchmarks, so that inference code can be checked
 * against probabilities computed by hand.
 */
export interface LogisticWeights {
  textWeights: Float32Array;
  featureWeights: Float32Array;
  bias: number;
}

function floatTensor(name: string, dims: number[], values: Float32Array): onnx.ITensorProto {
  return {
    name,
    dims,
    dataType: onnx.TensorProto.DataType.FLOAT,
    rawData: new Uint8Array(values.buffer, values.byteOffset, values.byteLength),
  };
}

function floatInput(name: string, width: number): onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: onnx.TensorProto.DataType.FLOAT,
        shape: { dim: [{ dimParam: 'N' }, { dimValue: width }] },
      },
    },
  };
}

export function buildLogisticModel(weights: LogisticWeights): Uint8Array {
  const textWidth = weights.textWeights.length;
  const featureCount = weights.featureWeights.length;
  const graph: onnx.IGraphProto = {
    name: 'logistic',
    input: [floatInput('text', textWidth), floatInput('features', featureCount)],
    output: [floatInput('p_a', 1)],
    initializer: [
      floatTensor('text_w', [textWidth, 1], weights.textWeights),
      floatTensor('feature_w', [featureCount, 1], weights.featureWeights),
      floatTensor('bias', [1], Float32Array.of(weights.bias)),
    ],
    node: [
      { opType: 'MatMul', input: ['text', 'text_w'], output: ['z_text'] },
      { opType: 'MatMul', input: ['features', 'feature_w'], output: ['z_features'] },
      { opType: 'Add', input: ['z_text', 'z_features'], output: ['z_sum'] },
      { opType: 'Add', input: ['z_sum', 'bias'], output: ['logit'] },
      { opType: 'Sigmoid', input: ['logit'], output: ['p_a'] },
    ],
  };
  const model: onnx.IModelProto = {
    irVersion: 8,
    opsetImport: [{ domain: '', version: 17 }],
    producerName: 'arena-pipeline',
    graph,
  };
  return onnx.ModelProto.encode(onnx.ModelProto.create(model)).finish();
}

/** Writes a model folder laid out like the cpu trainer's `export`: model.onnx plus its model.json. */
export function writeLogisticModelDir(
  dir: string,
  opts: { hashDim: number; featureColumns: string[]; weights: LogisticWeights; history?: unknown },
): void {
  if (opts.weights.textWeights.length !== 3 * opts.hashDim || opts.weights.featureWeights.length !== opts.featureColumns.length) {
    throw new RangeError('writeLogisticModelDir: weight lengths do not match the input widths');
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, MODEL_FILE), buildLogisticModel(opts.weights));
  const manifest = {
    kind: 'logistic',
    inputs: [
      { name: 'text', dtype: 'float32', shape: ['N', 3 * opts.hashDim] },
      { name: 'features', dtype: 'float32', shape: ['N', opts.featureColumns.length] },
    ],
    output: { name: 'p_a', dtype: 'float32', shape: ['N', 1] },
    text_hashing: { ...TEXT_HASHING, text_hash_dim: opts.hashDim },
    feature_columns: opts.featureColumns,
    ...(opts.history === undefined ? {} : { history: opts.history }),
  };
  fs.writeFileSync(path.join(dir, MANIFEST_FILE), `${JSON.stringify(manifest, null, 2)}\n`);
}
