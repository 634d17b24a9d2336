import { UserInputError } from '../errors';
import type { TextRecipe } from './gemma2-manifest';
import type { EncodePiece } from './gemma2-tokenizer';

/**
 * input_ids of (prompt, response_a, response_b) rows built exactly as the GPU trainer builds them
 * (trainers/gpu/arena_trainer/text.py, described by model.json `text`):
 *   [bos] template[0] prompt template[1] response_a template[2] response_b
 * each piece tokenized alone, the three texts cut by the truncation strategy, the whole cut at max_length.
 */
export interface TextEncoder {
  encode(prompt: string, responseA: string, responseB: string): number[];
  readonly padTokenId: number;
  readonly paddingSide: 'right' | 'left';
}

/** Each part keeps at most budget // 3 tokens, from its beginning; unused room is not passed on. */
export function cutSpread(parts: number[][], budget: number): number[][] {
  const third = Math.floor(budget / 3);
  return parts.map((part) => part.slice(0, third));
}

/**
 * Nothing is cut when all fits. Else parts of at most budget // 3 tokens stay whole and the others
 * share the rest in proportion to their lengths (rounded down); each keeps ceil(half) of its share
 * less the marker from its start and floor(half) from its end, with the marker between.
 */
export function cutHeadTail(parts: number[][], budget: number, marker: readonly number[]): number[][] {
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  if (total <= budget) return parts.map((part) => part.slice());
  const third = Math.floor(budget / 3);
  const isShort = parts.map((part) => part.length <= third);
  const shortTotal = parts.reduce((sum, part, i) => sum + (isShort[i] ? part.length : 0), 0);
  const rest = budget - shortTotal;
  const longTotal = total - shortTotal;
  return parts.map((part, i) => {
    if (isShort[i]) return part.slice();
    const share = Math.floor((rest * part.length) / longTotal);
    const keep = share - marker.length;
    if (keep <= 0) return part.slice(0, share);
    const head = Math.floor((keep + 1) / 2);
    const tail = keep - head;
    return [...part.slice(0, head), ...marker, ...(tail > 0 ? part.slice(part.length - tail) : [])];
  });
}

/**
 * Checks the tokenizer against what model.json recorded at export (marker ids, part budget), so a
 * tokenizer that splits differently fails here instead of silently feeding the model other ids.
 */
export function createTextEncoder(recipe: TextRecipe, encodePiece: EncodePiece, manifestFile: string): TextEncoder {
  const template = recipe.template.map((piece) => encodePiece(piece));
  const marker = encodePiece(recipe.head_tail_marker);
  const bos = recipe.bos_token_id === null ? [] : [recipe.bos_token_id];
  const budget = recipe.max_length - bos.length - template.reduce((sum, ids) => sum + ids.length, 0);
  if (JSON.stringify(marker) !== JSON.stringify(recipe.head_tail_marker_ids)) {
    throw new UserInputError(
      `${manifestFile}: key text.head_tail_marker_ids is ${JSON.stringify(recipe.head_tail_marker_ids)}, but the exported tokenizer gives ${JSON.stringify(marker)}: it does not tokenize as the trainer did`,
    );
  }
  if (budget !== recipe.part_budget) {
    throw new UserInputError(
      `${manifestFile}: key text.part_budget is ${recipe.part_budget}, but the exported tokenizer's template tokens leave ${budget}: it does not tokenize as the trainer did`,
    );
  }
  const [t0, t1, t2] = template as [number[], number[], number[]];
  return {
    padTokenId: recipe.pad_token_id,
    paddingSide: recipe.padding_side,
    encode(prompt, responseA, responseB) {
      let parts = [encodePiece(prompt), encodePiece(responseA), encodePiece(responseB)];
      if (recipe.truncation === 'spread') parts = cutSpread(parts, budget);
      else if (recipe.truncation === 'head_tail') parts = cutHeadTail(parts, budget, marker);
      const [p, a, b] = parts as [number[], number[], number[]];
      return [...bos, ...t0, ...p, ...t1, ...a, ...t2, ...b].slice(0, recipe.max_length);
    },
  };
}

export interface PaddedBatch {
  inputIds: BigInt64Array;
  attentionMask: BigInt64Array;
  rows: number;
  width: number;
}

/** int64 [N, L] input_ids and attention_mask, padded to the longest row on the recipe's side. */
export function padBatch(rows: readonly number[][], padTokenId: number, side: 'right' | 'left'): PaddedBatch {
  const width = rows.reduce((max, row) => Math.max(max, row.length), 0);
  const inputIds = new BigInt64Array(rows.length * width).fill(BigInt(padTokenId));
  const attentionMask = new BigInt64Array(rows.length * width);
  rows.forEach((row, r) => {
    const start = r * width + (side === 'right' ? 0 : width - row.length);
    for (let k = 0; k < row.length; k++) {
      inputIds[start + k] = BigInt(row[k]!);
      attentionMask[start + k] = 1n;
    }
  });
  return { inputIds, attentionMask, rows: rows.length, width };
}
