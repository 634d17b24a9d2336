import { UserInputError } from '../errors';
import type { TextRecipe } from './gemma2-manifest';
import type { TextTokenizer } from './gemma2-tokenizer';

/**
 * input_ids of (prompt, response_a, response_b) rows built exactly as the GPU trainer builds them
 * (trainers/gpu/arena_trainer/text.py, described by model.json `text`), from the string
 *   template[0] prompt template[1] response_a template[2] response_b
 * whole_string: the texts cut by the truncation strategy on their own ids (kept ids decoded back to
 * text), the string encoded once, cut to what BOS and EOS leave, between BOS and EOS.
 * pieces: each piece tokenized alone, the three texts cut by the strategy, BOS first, the whole cut at max_length.
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
 * (head, tail) tokens each part keeps; tail null: kept whole or cut without the marker. Nothing is cut
 * when all fits. Else parts of at most budget // 3 tokens stay whole and the others share the rest in
 * proportion to their lengths (rounded down); each keeps ceil(half) of its share less the marker from
 * its start and floor(half) from its end, with the marker between.
 */
export function headTailSpans(lengths: readonly number[], budget: number, markerLength: number): Array<[number, number | null]> {
  const total = lengths.reduce((sum, n) => sum + n, 0);
  if (total <= budget) return lengths.map((n) => [n, null]);
  const third = Math.floor(budget / 3);
  const isShort = lengths.map((n) => n <= third);
  const shortTotal = lengths.reduce((sum, n, i) => sum + (isShort[i] ? n : 0), 0);
  const rest = budget - shortTotal;
  const longTotal = total - shortTotal;
  return lengths.map((n, i) => {
    if (isShort[i]) return [n, null];
    const share = Math.floor((rest * n) / longTotal);
    const keep = share - markerLength;
    if (keep <= 0) return [share, null];
    const head = Math.floor((keep + 1) / 2);
    return [head, keep - head];
  });
}

/** The parts cut by headTailSpans, the marker's ids between head and tail. */
export function cutHeadTail(parts: number[][], budget: number, marker: readonly number[]): number[][] {
  const spans = headTailSpans(parts.map((part) => part.length), budget, marker.length);
  return parts.map((part, i) => {
    const [head, tail] = spans[i]!;
    if (tail === null) return part.slice(0, head);
    return [...part.slice(0, head), ...marker, ...(tail > 0 ? part.slice(part.length - tail) : [])];
  });
}

/**
 * Checks the tokenizer against what model.json recorded at export (marker ids, part budget), so a
 * tokenizer that splits differently fails here instead of silently feeding the model other ids.
 */
export function createTextEncoder(recipe: TextRecipe, tokenizer: TextTokenizer, manifestFile: string): TextEncoder {
  const template = recipe.template.map((piece) => tokenizer.encode(piece));
  const marker = tokenizer.encode(recipe.head_tail_marker);
  const bos = recipe.bos_token_id === null ? [] : [recipe.bos_token_id];
  const eos = recipe.tokenization === 'pieces' || recipe.eos_token_id === null ? [] : [recipe.eos_token_id];
  const budget = recipe.max_length - bos.length - eos.length - template.reduce((sum, ids) => sum + ids.length, 0);
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
  const [s0, s1, s2] = recipe.template;

  /** The three texts shortened as the strategy cuts their ids; a text not cut stays as written. */
  function cutTexts(texts: string[]): string[] {
    const parts = texts.map((text) => tokenizer.encode(text));
    if (recipe.truncation === 'spread') {
      const third = Math.floor(budget / 3);
      return texts.map((text, i) => (parts[i]!.length <= third ? text : tokenizer.decode(parts[i]!.slice(0, third))));
    }
    const spans = headTailSpans(parts.map((part) => part.length), budget, marker.length);
    return texts.map((text, i) => {
      const part = parts[i]!;
      const [head, tail] = spans[i]!;
      if (head === part.length) return text;
      const kept = tokenizer.decode(part.slice(0, head));
      if (tail === null) return kept;
      return kept + recipe.head_tail_marker + (tail > 0 ? tokenizer.decode(part.slice(part.length - tail)) : '');
    });
  }

  function encodeWhole(prompt: string, responseA: string, responseB: string): number[] {
    const [p, a, b] = recipe.truncation === 'right' ? [prompt, responseA, responseB] : cutTexts([prompt, responseA, responseB]);
    const ids = tokenizer.encode(s0 + p + s1 + a + s2 + b);
    return [...bos, ...ids.slice(0, recipe.max_length - bos.length - eos.length), ...eos];
  }

  function encodePieces(prompt: string, responseA: string, responseB: string): number[] {
    let parts = [tokenizer.encode(prompt), tokenizer.encode(responseA), tokenizer.encode(responseB)];
    if (recipe.truncation === 'spread') parts = cutSpread(parts, budget);
    else if (recipe.truncation === 'head_tail') parts = cutHeadTail(parts, budget, marker);
    const [p, a, b] = parts as [number[], number[], number[]];
    return [...bos, ...t0, ...p, ...t1, ...a, ...t2, ...b].slice(0, recipe.max_length);
  }

  return {
    padTokenId: recipe.pad_token_id,
    paddingSide: recipe.padding_side,
    encode: recipe.tokenization === 'whole_string' ? encodeWhole : encodePieces,
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
