import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { UserInputError } from '../errors';
import { GEMMA2_KIND, MANIFEST_FILE, parseManifest } from './model-manifest';

const tokenId = z.int().nonnegative();

/**
 * The `model.json` of the GPU trainer's export (trainers/gpu/arena_trainer/export.py): where the graph,
 * its external weights and the tokenizer are, and `text`, the recipe of input_ids
 * (trainers/gpu/arena_trainer/text.py) that inference must follow token for token.
 */
const gemma2ManifestSchema = z.looseObject({
  kind: z.literal(GEMMA2_KIND),
  onnx: z.string().min(1),
  onnx_external_data: z.string().min(1).nullable(),
  tokenizer: z.string().min(1),
  text: z.looseObject({
    template: z.tuple([z.string(), z.string(), z.string()]),
    // Exports from before the key existed were built from pieces.
    tokenization: z.enum(['whole_string', 'pieces']).default('pieces'),
    bos_token_id: tokenId.nullable(),
    eos_token_id: tokenId.nullable().default(null),
    pad_token_id: tokenId,
    padding_side: z.enum(['right', 'left']),
    max_length: z.int().positive(),
    truncation: z.enum(['right', 'spread', 'head_tail']),
    part_budget: z.int().positive(),
    head_tail_marker: z.string(),
    head_tail_marker_ids: z.array(tokenId),
  }),
  feature_columns: z.array(z.string().min(1)),
  history: z.unknown().optional(),
});

export type Gemma2Manifest = z.infer<typeof gemma2ManifestSchema>;
export type TextRecipe = Gemma2Manifest['text'];

export interface Gemma2Model {
  manifest: Gemma2Manifest;
  manifestFile: string;
  modelFile: string;
  tokenizerDir: string;
}

/** Reads the manifest and checks that the files it names are there, before anything is loaded. */
export function readGemma2Model(modelDir: string): Gemma2Model {
  const manifest = parseManifest(modelDir, gemma2ManifestSchema);
  const manifestFile = path.join(modelDir, MANIFEST_FILE);
  const modelFile = path.join(modelDir, manifest.onnx);
  const tokenizerDir = path.join(modelDir, manifest.tokenizer);
  const required: Array<[string, string]> = [
    ['onnx', modelFile],
    ['tokenizer', path.join(tokenizerDir, 'tokenizer.json')],
    // onnxruntime finds the external weights beside model.onnx by the name stored in the graph.
    ...(manifest.onnx_external_data === null ? [] : [['onnx_external_data', path.join(modelDir, manifest.onnx_external_data)] as [string, string]]),
  ];
  for (const [key, file] of required) {
    if (!fs.existsSync(file)) throw new UserInputError(`${manifestFile}: key ${key}: ${file} not found`);
  }
  return { manifest, manifestFile, modelFile, tokenizerDir };
}
