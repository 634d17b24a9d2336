import { onnx } from 'onnx-proto';
import type { Checkpoint } from './checkpoint';
import { NORM_EPSILON } from './model';

export const ONNX_OPSET = 17;
export const ONNX_INPUT_TEXT = 'text';
export const ONNX_INPUT_FEATURES = 'features';
export const ONNX_OUTPUT = 'p_a';

export function onnxFloatTensor(name: string, dims: number[], data: ArrayLike<number>): onnx.ITensorProto {
  const values = Float32Array.from(data);
  return { name, dims, dataType: onnx.TensorProto.DataType.FLOAT, rawData: new Uint8Array(values.buffer) };
}

export function onnxFloatInput(name: string, width: number): onnx.IValueInfoProto {
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

function node(opType: string, input: string[], output: string, attribute: onnx.IAttributeProto[] = []): onnx.INodeProto {
  return { opType, input, output: [output], name: output, attribute };
}

const intAttr = (name: string, i: number): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INT, i });
const intsAttr = (name: string, ints: number[]): onnx.IAttributeProto => ({ name, type: onnx.AttributeProto.AttributeType.INTS, ints });

/** y = z / sqrt(sum(z^2) + eps), row-wise: the L2 normalisation of `model.ts`. */
function l2Normalise(z: string, out: string): onnx.INodeProto[] {
  return [
    node('ReduceSumSquare', [z], `${out}_sumsq`, [intsAttr('axes', [1]), intAttr('keepdims', 1)]),
    node('Add', [`${out}_sumsq`, 'norm_epsilon'], `${out}_sumsq_eps`),
    node('Sqrt', [`${out}_sumsq_eps`], `${out}_norm`),
    node('Div', [z, `${out}_norm`], out),
  ];
}

/**
 * The inference graph of a checkpoint: `text` [N, 3*text_hash_dim] and raw `features` [N, F] in,
 * `p_a` [N, 1] = sigmoid(logit) out. Standardisation is inside the graph; dropout is omitted.
 */
export function buildOnnxModel(c: Checkpoint): Uint8Array {
  const d = c.dims;
  const p = c.params;
  const init = (name: string, dims: number[]) => onnxFloatTensor(name, dims, p[name]!);
  const graph: onnx.IGraphProto = {
    name: 'arena_cpu_mlp',
    input: [onnxFloatInput(ONNX_INPUT_TEXT, 3 * d.textHashDim), onnxFloatInput(ONNX_INPUT_FEATURES, d.featureCount)],
    output: [onnxFloatInput(ONNX_OUTPUT, 1)],
    initializer: [
      init('text.weight', [3 * d.textHashDim, d.textDim]),
      init('text.bias', [d.textDim]),
      init('features.weight', [d.featureCount, d.featureDim]),
      init('features.bias', [d.featureDim]),
      init('head.fc1.weight', [d.textDim + d.featureDim, d.hiddenDim]),
      init('head.fc1.bias', [d.hiddenDim]),
      init('head.fc2.weight', [d.hiddenDim, 1]),
      init('head.fc2.bias', [1]),
      onnxFloatTensor('features.mean', [d.featureCount], c.scaling.mean),
      onnxFloatTensor('features.std', [d.featureCount], c.scaling.std),
      onnxFloatTensor('norm_epsilon', [1], [NORM_EPSILON]),
    ],
    node: [
      node('Gemm', [ONNX_INPUT_TEXT, 'text.weight', 'text.bias'], 'text_pre'),
      ...l2Normalise('text_pre', 'text_embedding'),
      node('Sub', [ONNX_INPUT_FEATURES, 'features.mean'], 'features_centred'),
      node('Div', ['features_centred', 'features.std'], 'features_scaled'),
      node('Gemm', ['features_scaled', 'features.weight', 'features.bias'], 'features_pre'),
      ...l2Normalise('features_pre', 'features_embedding'),
      node('Concat', ['text_embedding', 'features_embedding'], 'joined', [intAttr('axis', 1)]),
      node('Gemm', ['joined', 'head.fc1.weight', 'head.fc1.bias'], 'hidden'),
      node('Relu', ['hidden'], 'hidden_relu'),
      node('Gemm', ['hidden_relu', 'head.fc2.weight', 'head.fc2.bias'], 'logit'),
      node('Sigmoid', ['logit'], ONNX_OUTPUT),
    ],
  };
  const model = onnx.ModelProto.create({
    irVersion: 8,
    producerName: 'arena-pipeline cpu trainer',
    opsetImport: [{ domain: '', version: ONNX_OPSET }],
    graph,
  });
  return onnx.ModelProto.encode(model).finish();
}
