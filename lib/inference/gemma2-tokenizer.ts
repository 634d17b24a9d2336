import * as fs from 'node:fs';
import * as path from 'node:path';
import { Tokenizer } from '@huggingface/tokenizers';
import { UserInputError } from '../errors';

/**
 * The exported tokenizer as the input recipe uses it: `encode` gives the ids of one text without
 * special tokens added (text that spells one, like "<bos>", still maps to it); `decode` turns ids back
 * into text with the tokenizer's own decoder, special tokens kept and no clean-up of spaces, as
 * Python's `backend_tokenizer.decode` does.
 */
export interface TextTokenizer {
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

function readJson(file: string): object {
  try {
    const value: unknown = JSON.parse(fs.readFileSync(file, 'utf8'));
    if (typeof value !== 'object' || value === null) throw new Error('not a JSON object');
    return value;
  } catch (err) {
    throw new UserInputError(`${file}: cannot read (${(err as Error).message})`);
  }
}

/** The exported tokenizer folder (tokenizer.json, tokenizer_config.json) in pure JS, as transformers' fast tokenizer reads it. */
export function loadTokenizer(dir: string): TextTokenizer {
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  const configFile = path.join(dir, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? readJson(configFile) : {};
  let tokenizer: Tokenizer;
  try {
    tokenizer = new Tokenizer(readJson(tokenizerFile), config);
  } catch (err) {
    throw new UserInputError(`${tokenizerFile}: cannot load the tokenizer (${(err as Error).message})`);
  }
  return {
    encode: (text) => tokenizer.encode(text, { add_special_tokens: false }).ids,
    // The library refuses an empty list; Python's decoder gives ''.
    decode: (ids) => (ids.length === 0 ? '' : tokenizer.decode([...ids], { skip_special_tokens: false, clean_up_tokenization_spaces: false })),
  };
}
