/** Turning a model's token states into one unit-length vector per input. */
import type { Pooling } from './model-profile.js';

/** Scales `v` to unit length in place (a zero vector stays zero) and returns it. */
export function l2Normalize(v: Float32Array): Float32Array {
  let sum = 0;
  for (let i = 0; i < v.length; i++) sum += v[i] * v[i];
  if (sum > 0) {
    const inv = 1 / Math.sqrt(sum);
    for (let i = 0; i < v.length; i++) v[i] *= inv;
  }
  return v;
}

/**
 * Pools row `row` of a [batch, seq, dim] hidden-state tensor: `cls` takes the first token, `mean`
 * averages the tokens whose attention mask is 1 (padding excluded).
 */
export function poolRow(
  hidden: Float32Array,
  row: number,
  seqLen: number,
  dim: number,
  tokens: number,
  pooling: Pooling,
): Float32Array {
  const base = row * seqLen * dim;
  if (pooling === 'cls') return hidden.slice(base, base + dim);
  const out = new Float32Array(dim);
  // Real tokens are a prefix of each row: batches are padded on the right.
  for (let t = 0; t < tokens; t++) {
    const off = base + t * dim;
    for (let d = 0; d < dim; d++) out[d] += hidden[off + d];
  }
  if (tokens > 0) for (let d = 0; d < dim; d++) out[d] /= tokens;
  return out;
}
