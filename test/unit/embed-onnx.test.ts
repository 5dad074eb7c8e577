import { existsSync } from 'node:fs';
import { mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOnnxEmbedder, type OnnxEmbedder } from '../../src/embed/onnx.js';
import { createLogger, silentLogger, type Logger } from '../../src/obs/logger.js';

// The real quantized bge-small-en-v1.5 (`npm run setup` puts it here).
const MODEL_DIR = resolve(import.meta.dirname, '../../.cache/models/bge-small-en-v1.5-q');
const ONNX = join(MODEL_DIR, 'bge-small-en-v1.5-q.onnx');
const TOKENIZER = join(MODEL_DIR, 'bge-small-en-v1.5-q-tokenizer.json');
const haveModel = existsSync(ONNX) && existsSync(TOKENIZER);

const dot = (a: Float32Array, b: Float32Array) => a.reduce((s, x, i) => s + x * b[i], 0);
const norm = (a: Float32Array) => Math.sqrt(dot(a, a));

function capturingLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  return { logger: createLogger('debug', {}, (line) => lines.push(JSON.parse(line))), lines };
}

/** A model directory of links to the real files, under a chosen name and with an optional manifest. */
async function linkedModelDir(name: string, manifest?: object): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'srag-model-'));
  await symlink(ONNX, join(dir, `${name}.onnx`));
  await symlink(TOKENIZER, join(dir, `${name}-tokenizer.json`));
  if (manifest) await writeFile(join(dir, 'srag-model.json'), JSON.stringify(manifest));
  return dir;
}

const PASSAGES = [
  'Interleukin-6 (IL-6) is a pro-inflammatory cytokine; elevated serum IL-6 predicts respiratory failure in hospitalised COVID-19 patients.',
  'The Treaty of Westphalia, signed in 1648, ended the Thirty Years War and established principles of state sovereignty in Europe.',
  'Photosynthesis in C4 plants concentrates carbon dioxide in bundle-sheath cells, reducing photorespiration at high temperatures.',
  'Sourdough bread is leavened by a culture of wild yeasts and lactic acid bacteria maintained by regular feeding with flour and water.',
];

describe.skipIf(!haveModel)('ONNX embedder on the real bge-small-en-v1.5-q model', () => {
  let embedder: OnnxEmbedder;
  beforeAll(async () => {
    embedder = await createOnnxEmbedder({ modelDir: MODEL_DIR, device: 'cpu', batchSize: 3, threads: 0, logger: silentLogger });
  });
  afterAll(async () => {
    await embedder?.close();
  });

  it('describes the model', () => {
    expect(embedder.modelId).toBe('bge-small-en-v1.5-q');
    expect(embedder.dimension).toBe(384);
    expect(embedder.device).toBe('cpu');
    expect(embedder.pooling).toBe('cls');
    // Dynamically quantized: one sequence per run, so vectors do not depend on their batch.
    expect(embedder.rowsPerRun).toBe(1);
  });

  it('returns one 384-dimensional unit vector per input', async () => {
    const vectors = await embedder.embedDocuments(PASSAGES);
    expect(vectors).toHaveLength(PASSAGES.length);
    for (const v of vectors) {
      expect(v).toBeInstanceOf(Float32Array);
      expect(v).toHaveLength(384);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
  });

  it('keeps input order across length-sorted, dynamically padded batches', async () => {
    const texts = [
      PASSAGES[0] + ' ' + PASSAGES[2],
      'IL-6',
      PASSAGES[1],
      'a',
      'short sentence here',
      PASSAGES[3] + ' ' + PASSAGES[0] + ' ' + PASSAGES[1],
      PASSAGES[2],
    ];
    const together = await embedder.embedDocuments(texts);
    const alone = await Promise.all(texts.map(async (t) => (await embedder.embedDocuments([t]))[0]));
    for (let i = 0; i < texts.length; i++) expect(dot(together[i], alone[i])).toBeGreaterThan(1 - 1e-4);
    // Different inputs really do get different vectors (so the comparison above means something).
    expect(dot(together[1], together[3])).toBeLessThan(0.99);
  });

  it('padded batching of the quantized model drifts a little, which is why auto avoids it', async () => {
    const padded = await createOnnxEmbedder({
      modelDir: MODEL_DIR,
      device: 'cpu',
      batchSize: 8,
      threads: 0,
      logger: silentLogger,
      batching: 'padded',
    });
    try {
      const texts = ['IL-6', PASSAGES[0] + ' ' + PASSAGES[1], 'short sentence here', PASSAGES[2]];
      const batched = await padded.embedDocuments(texts);
      const exact = await embedder.embedDocuments(texts);
      const cosines = texts.map((_, i) => dot(batched[i], exact[i]));
      // Same model, same inputs: close, in order, but not identical (activation scales span the batch).
      for (const c of cosines) expect(c).toBeGreaterThan(0.97);
      expect(Math.min(...cosines)).toBeLessThan(1 - 1e-4);
    } finally {
      await padded.close();
    }
  });

  it('ranks the relevant passage first for a query (with the bge query instruction)', async () => {
    const docs = await embedder.embedDocuments(PASSAGES);
    const cases: [string, number][] = [
      ['Which cytokine levels are associated with respiratory failure in COVID-19?', 0],
      ['How do C4 plants avoid photorespiration?', 2],
    ];
    for (const [question, relevant] of cases) {
      const q = await embedder.embedQuery(question);
      expect(norm(q)).toBeCloseTo(1, 5);
      const scores = docs.map((d) => dot(q, d));
      const best = scores.indexOf(Math.max(...scores));
      expect(best).toBe(relevant);
      for (let i = 0; i < scores.length; i++) if (i !== relevant) expect(scores[relevant] - scores[i]).toBeGreaterThan(0.05);
    }
    // The instruction is applied: the query vector differs from the same text embedded as a document.
    const asDoc = (await embedder.embedDocuments([cases[0][0]]))[0];
    expect(dot(asDoc, await embedder.embedQuery(cases[0][0]))).toBeLessThan(0.999);
  });

  it('embeds the empty string as [CLS][SEP] without failing', async () => {
    const [empty, other] = await embedder.embedDocuments(['', 'hello']);
    expect(empty).toHaveLength(384);
    expect(norm(empty)).toBeCloseTo(1, 5);
    expect(dot(empty, other)).toBeLessThan(0.99);
    expect(await embedder.embedDocuments([])).toEqual([]);
  });

  it('truncates to maxTokens, special tokens included', async () => {
    const short = await createOnnxEmbedder({
      modelDir: MODEL_DIR,
      device: 'cpu',
      batchSize: 4,
      threads: 1,
      logger: silentLogger,
      maxTokens: 8,
    });
    try {
      // Each word is one token, so 8 tokens = [CLS] + the first six words + [SEP].
      const [long, prefix] = await short.embedDocuments(['the cat sat on the mat '.repeat(200), 'the cat sat on the mat']);
      expect(dot(long, prefix)).toBeGreaterThan(1 - 1e-5);
      // The default embedder accepts a text far beyond 512 tokens too.
      const [huge] = await embedder.embedDocuments(['the cat sat on the mat '.repeat(400)]);
      expect(norm(huge)).toBeCloseTo(1, 5);
    } finally {
      await short.close();
    }
  });

  it('keeps the event loop free while the model runs (inference happens on a worker thread)', async () => {
    const texts = Array.from({ length: 24 }, (_, i) => `${i} ${PASSAGES.join(' ')} ${PASSAGES.join(' ')}`);
    const big = await createOnnxEmbedder({
      modelDir: MODEL_DIR,
      device: 'cpu',
      batchSize: 24,
      threads: 0,
      logger: silentLogger,
      batching: 'padded',
    });
    expect(big.rowsPerRun).toBe(24);
    try {
      let last = performance.now();
      let maxGap = 0;
      const timer = setInterval(() => {
        const now = performance.now();
        maxGap = Math.max(maxGap, now - last);
        last = now;
      }, 5);
      const started = performance.now();
      await big.embedDocuments(texts);
      const elapsed = performance.now() - started;
      clearInterval(timer);
      // One batch: run on this thread, the longest pause would be the whole inference.
      expect(maxGap).toBeLessThan(elapsed / 3);
    } finally {
      await big.close();
    }
  });

  it('falls back to CPU with one warning when CUDA is requested but unavailable', async () => {
    const { logger, lines } = capturingLogger();
    const e = await createOnnxEmbedder({ modelDir: MODEL_DIR, device: 'cuda', batchSize: 4, threads: 1, logger });
    try {
      const warnings = lines.filter((l) => l.level === 'warn');
      if (e.device === 'cuda') {
        // A host with a working CUDA provider: nothing to fall back from.
        expect(warnings).toEqual([]);
      } else {
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toMatchObject({ msg: 'embedder: CUDA provider unavailable, using CPU', requested: 'cuda' });
        expect(typeof warnings[0].reason).toBe('string');
      }
      expect((await e.embedQuery('still works'))).toHaveLength(384);
    } finally {
      await e.close();
    }
  });

  it('uses no CUDA attempt and logs no warning for device=cpu', async () => {
    const { logger, lines } = capturingLogger();
    const e = await createOnnxEmbedder({ modelDir: MODEL_DIR, device: 'cpu', batchSize: 4, threads: 1, logger });
    await e.close();
    expect(lines.filter((l) => l.level === 'warn')).toEqual([]);
    expect(lines.find((l) => l.msg === 'embedder: model loaded')).toMatchObject({ device: 'cpu', dimension: 384 });
  });

  it('takes pooling, id and prefixes from srag-model.json', async () => {
    const dir = await linkedModelDir('custom-model', { id: 'custom-v1', pooling: 'mean', queryPrefix: 'query: ', dimension: 384 });
    const e = await createOnnxEmbedder({ modelDir: dir, device: 'cpu', batchSize: 4, threads: 1, logger: silentLogger });
    try {
      expect(e.modelId).toBe('custom-v1');
      expect(e.pooling).toBe('mean');
      const [meanPooled] = await e.embedDocuments([PASSAGES[0]]);
      const [clsPooled] = await embedder.embedDocuments([PASSAGES[0]]);
      expect(norm(meanPooled)).toBeCloseTo(1, 5);
      expect(dot(meanPooled, clsPooled)).toBeLessThan(0.999);
      const q = await e.embedQuery('x');
      const [prefixed] = await e.embedDocuments(['query: x']);
      expect(dot(q, prefixed)).toBeGreaterThan(1 - 1e-5);
    } finally {
      await e.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects a manifest whose dimension disagrees with the model', async () => {
    const dir = await linkedModelDir('bge-small-en-v1.5-q', { dimension: 768 });
    try {
      await expect(
        createOnnxEmbedder({ modelDir: dir, device: 'cpu', batchSize: 4, threads: 1, logger: silentLogger }),
      ).rejects.toMatchObject({ code: 'MODEL_ERROR' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('rejects work after close() and closes idempotently', async () => {
    const e = await createOnnxEmbedder({ modelDir: MODEL_DIR, device: 'cpu', batchSize: 4, threads: 1, logger: silentLogger });
    const pending = e.embedDocuments(PASSAGES);
    await e.close();
    // Work already submitted finishes before the session is released.
    expect(await pending).toHaveLength(PASSAGES.length);
    await e.close();
    await expect(e.embedDocuments(['late'])).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });
});

describe('ONNX embedder without a model', () => {
  it('says which directory is missing and how to fetch the model', async () => {
    const dir = join(tmpdir(), 'srag-no-such-model-dir');
    const err = await createOnnxEmbedder({ modelDir: dir, device: 'cpu', batchSize: 4, threads: 0, logger: silentLogger }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((err as Error).message).toContain(dir);
    expect((err as Error).message).toContain('npm run setup');
  });
});
