/**
 * Cosine similarity of a prompt and its responses over their bags of character 3-grams (code
 * points, case kept): dot(P, R) / (|P| |R|) with integer gram counts; 0 when either text has fewer
 * than 3 characters.
 *
 * One open-addressing table holds the grams of the prompt and the responses of a row, with a count
 * per text; a generation stamp empties it between rows without clearing. The squared norms grow by
 * 2k - 1 as a gram's count reaches k, and a response gram adds the prompt's count of it to the dot
 * product, so each text is read once and no bag is materialised.
 */
export class TrigramCosine {
  /** Slot s: its gram's code points at keys[3s ..], its stamp at cells[s * CELL], then one count per text. */
  private keys = new Int32Array(0);
  private cells = new Int32Array(0);
  private mask = -1;
  private generation = 0;
  private points = new Int32Array(1024);
  private dot = 0;

  /**
   * Writes to out[at + i] the similarity of the prompt bytes[starts[0], ends[0]) with each
   * response i = 0, 1, .. at bytes[starts[i + 1], ends[i + 1]) (UTF-8), at most MAX_RESPONSES.
   */
  similarities(bytes: Uint8Array, starts: ArrayLike<number>, ends: ArrayLike<number>, out: Float64Array, at: number): void {
    const texts = starts.length;
    if (texts - 1 > MAX_RESPONSES) throw new Error(`at most ${MAX_RESPONSES} responses per prompt`);
    let size = 0;
    for (let t = 0; t < texts; t++) size += ends[t] - starts[t];
    if (this.points.length < size) this.points = new Int32Array(size * 2);
    // Code points of all texts of the row, one after the other.
    const offsets = [0];
    for (let t = 0; t < texts; t++) offsets.push(decodeInto(bytes, starts[t], ends[t], this.points, offsets[t]));
    for (let t = 1; t < texts; t++) out[at + t - 1] = 0;
    if (offsets[1] - offsets[0] < 3) return;
    this.reserve(offsets[texts]);
    this.generation++;
    const promptNorm = this.addGrams(0, offsets[0], offsets[1]);
    for (let t = 1; t < texts; t++) {
      if (offsets[t + 1] - offsets[t] < 3) continue;
      const norm = this.addGrams(t, offsets[t], offsets[t + 1]);
      out[at + t - 1] = this.dot / (Math.sqrt(promptNorm) * Math.sqrt(norm));
    }
  }

  /** Counts the grams of points[from, to) as text `text`; returns the squared norm of its bag and sets `dot`. */
  private addGrams(text: number, from: number, to: number): number {
    const { points, keys, cells, mask, generation } = this;
    let squared = 0;
    let dot = 0;
    let a = points[from];
    let b = points[from + 1];
    for (let i = from + 2; i < to; i++) {
      const c = points[i];
      let slot = (Math.imul(a, 0x9e3779b1) ^ Math.imul(b, 0x85ebca77) ^ Math.imul(c, 0xc2b2ae3d)) >>> 0;
      slot = (slot ^ (slot >>> 15)) & mask;
      for (;;) {
        const cell = slot * CELL;
        if (cells[cell] !== generation) {
          cells[cell] = generation;
          cells[cell + 1] = 0;
          cells[cell + 2] = 0;
          cells[cell + 3] = 0;
          keys[slot * 3] = a;
          keys[slot * 3 + 1] = b;
          keys[slot * 3 + 2] = c;
          break;
        }
        if (keys[slot * 3] === a && keys[slot * 3 + 1] === b && keys[slot * 3 + 2] === c) break;
        slot = (slot + 1) & mask;
      }
      const cell = slot * CELL;
      const count = ++cells[cell + 1 + text];
      squared += 2 * count - 1;
      dot += cells[cell + 1];
      a = b;
      b = c;
    }
    this.dot = dot;
    return squared;
  }

  /** Room for `grams` distinct grams at a load factor of at most 1/2. */
  private reserve(grams: number): void {
    if (this.mask + 1 >= grams * 2) return;
    let capacity = 1024;
    while (capacity < grams * 2) capacity *= 2;
    this.mask = capacity - 1;
    this.keys = new Int32Array(capacity * 3);
    this.cells = new Int32Array(capacity * CELL);
    this.generation = 0;
  }
}

const MAX_RESPONSES = 2;
/** Stamp, prompt count, one count per response. */
const CELL = 2 + MAX_RESPONSES;

/** Decodes UTF-8 bytes[start, end) into code points at points[at ..]; returns the end position. */
function decodeInto(bytes: Uint8Array, start: number, end: number, points: Int32Array, at: number): number {
  let i = start;
  let n = at;
  while (i < end) {
    const lead = bytes[i];
    if (lead < 0x80) {
      points[n++] = lead;
      i++;
    } else if (lead < 0xe0) {
      points[n++] = ((lead & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
      i += 2;
    } else if (lead < 0xf0) {
      points[n++] = ((lead & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
      i += 3;
    } else {
      points[n++] = ((lead & 0x07) << 18) | ((bytes[i + 1] & 0x3f) << 12) | ((bytes[i + 2] & 0x3f) << 6) | (bytes[i + 3] & 0x3f);
      i += 4;
    }
  }
  return n;
}
