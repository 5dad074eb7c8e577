// Seeded randomness for tests and benchmarks, so that a failing random case reproduces.

/** xorshift32: deterministic, fast, good enough for test data. */
export function rng(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0xffffffff;
  };
}

/** A random unit-length vector. */
export function randomUnit(dim: number, next: () => number): Float32Array {
  const v = new Float32Array(dim);
  let norm = 0;
  for (let j = 0; j < dim; j++) {
    v[j] = next() * 2 - 1;
    norm += v[j] * v[j];
  }
  norm = Math.sqrt(norm);
  for (let j = 0; j < dim; j++) v[j] /= norm;
  return v;
}
