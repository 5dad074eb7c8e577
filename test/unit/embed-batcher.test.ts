import { afterEach, describe, expect, it, vi } from 'vitest';
import { createQueryBatcher, EmbeddingAbortedError, type QueryBatcherOptions } from '../../src/embed/batcher.js';
import type { Embedder } from '../../src/embed/port.js';

/** A vector that names its text, so a caller can tell it got its own. */
function vectorOf(text: string): Float32Array {
  const v = new Float32Array(4);
  for (let i = 0; i < text.length; i++) v[i % 4] += text.charCodeAt(i);
  return v;
}

interface FakeEmbedder extends Embedder {
  /** Texts of each model call, by kind. */
  calls: { kind: 'query' | 'passage'; texts: string[] }[];
  /** Most model calls running at once. */
  peak: number;
  /** Holds every model call until release() (none held unless hold() was called). */
  hold(): void;
  release(): void;
}

function fakeEmbedder(fail: (texts: string[]) => Error | undefined = () => undefined): FakeEmbedder {
  let gate: { promise: Promise<void>; open: () => void } | undefined;
  let running = 0;
  const self: FakeEmbedder = {
    modelId: 'fake-model',
    dimension: 4,
    calls: [],
    peak: 0,
    hold() {
      let open!: () => void;
      gate = { promise: new Promise<void>((r) => (open = r)), open };
    },
    release() {
      gate?.open();
      gate = undefined;
    },
    embedDocuments: (texts) => run('passage', texts),
    embedQuery: async (text) => (await run('query', [text]))[0],
    embedQueries: (texts) => run('query', texts),
    close: async () => {},
  };
  async function run(kind: 'query' | 'passage', texts: string[]): Promise<Float32Array[]> {
    self.calls.push({ kind, texts });
    running++;
    self.peak = Math.max(self.peak, running);
    try {
      await gate?.promise;
      const error = fail(texts);
      if (error) throw error;
      return texts.map((t) => vectorOf(kind === 'query' ? `q:${t}` : t));
    } finally {
      running--;
    }
  }
  return self;
}

const opts = (o: Partial<QueryBatcherOptions> = {}): QueryBatcherOptions => ({ windowMs: 0, maxBatch: 16, cacheSize: 0, ...o });
/** Lets queued callbacks (setImmediate flushes, settled model calls) run. */
const tick = () => new Promise((r) => setImmediate(r));

describe('query batcher', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('embeds concurrent queries in one model call, each caller getting its own vector', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts());
    const texts = ['alpha', 'beta', 'gamma', 'delta', 'epsilon'];
    const vectors = await Promise.all(texts.map((t) => batcher.embedQuery(t)));
    expect(inner.calls).toEqual([{ kind: 'query', texts }]);
    vectors.forEach((v, i) => expect(v).toEqual(vectorOf(`q:${texts[i]}`)));
  });

  it('keeps each batch within maxBatch and runs one model call at a time', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ maxBatch: 3 }));
    inner.hold();
    const texts = ['a', 'b', 'c', 'd', 'e', 'f', 'g'];
    const all = Promise.all(texts.map((t) => batcher.embedQuery(t)));
    await tick();
    // The third text filled the batch: it left at once; the rest wait for the model.
    expect(inner.calls.map((c) => c.texts)).toEqual([['a', 'b', 'c']]);
    inner.release();
    const vectors = await all;
    expect(inner.calls.map((c) => c.texts)).toEqual([['a', 'b', 'c'], ['d', 'e', 'f'], ['g']]);
    expect(inner.peak).toBe(1);
    vectors.forEach((v, i) => expect(v).toEqual(vectorOf(`q:${texts[i]}`)));
  });

  it('waits up to windowMs for company while the model is idle', async () => {
    vi.useFakeTimers();
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ windowMs: 5 }));
    const first = batcher.embedQuery('first');
    await vi.advanceTimersByTimeAsync(3);
    const second = batcher.embedQuery('second');
    expect(inner.calls).toEqual([]);
    await vi.advanceTimersByTimeAsync(2);
    await Promise.all([first, second]);
    expect(inner.calls).toEqual([{ kind: 'query', texts: ['first', 'second'] }]);
  });

  it('with maxBatch 1 sends every text to the model at once, concurrently', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ maxBatch: 1 }));
    inner.hold();
    const all = Promise.all(['a', 'b', 'c'].map((t) => batcher.embedQuery(t)));
    await tick();
    expect(inner.calls.map((c) => c.texts)).toEqual([['a'], ['b'], ['c']]);
    inner.release();
    await all;
    expect(inner.peak).toBe(3);
  });

  it('embeds identical concurrent texts once, in separate arrays', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts());
    const [a, b, c] = await Promise.all([batcher.embedQuery('same'), batcher.embedQuery('same'), batcher.embedQuery('same')]);
    expect(inner.calls).toEqual([{ kind: 'query', texts: ['same'] }]);
    expect(a).toEqual(b);
    expect(b).toEqual(c);
    a[0] = 42;
    expect(b[0]).not.toBe(42);
  });

  it('keeps queries and passages apart: the same text is a different vector', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ cacheSize: 10 }));
    const [query, passage] = await Promise.all([batcher.embedTexts(['text'], 'query'), batcher.embedTexts(['text'], 'passage')]);
    expect(query[0]).toEqual(vectorOf('q:text'));
    expect(passage[0]).toEqual(vectorOf('text'));
    expect(inner.calls).toEqual([
      { kind: 'query', texts: ['text'] },
      { kind: 'passage', texts: ['text'] },
    ]);
  });

  it('a model failure reaches every waiting caller', async () => {
    const inner = fakeEmbedder(() => new Error('model crashed'));
    const batcher = createQueryBatcher(inner, opts());
    const results = await Promise.allSettled(['a', 'b', 'c'].map((t) => batcher.embedQuery(t)));
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    for (const r of results) expect((r as PromiseRejectedResult).reason).toMatchObject({ message: 'model crashed' });
  });

  it('one text the model rejects fails alone; its batch-mates get their vectors', async () => {
    const inner = fakeEmbedder((texts) => (texts.includes('poison') ? new Error('cannot embed this input') : undefined));
    const batcher = createQueryBatcher(inner, opts());
    const results = await Promise.allSettled(['a', 'poison', 'c'].map((t) => batcher.embedQuery(t)));
    expect(results[0]).toEqual({ status: 'fulfilled', value: vectorOf('q:a') });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: { message: 'cannot embed this input' } });
    expect(results[2]).toEqual({ status: 'fulfilled', value: vectorOf('q:c') });
  });

  it('answers repeated texts from a bounded LRU', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ cacheSize: 2 }));
    const modelTexts = () => inner.calls.flatMap((c) => c.texts);
    await batcher.embedQuery('a');
    await batcher.embedQuery('b');
    const hit = await batcher.embedQuery('a');
    expect(hit).toEqual(vectorOf('q:a'));
    expect(modelTexts()).toEqual(['a', 'b']);
    await batcher.embedQuery('c'); // evicts b, the least recently used
    await batcher.embedQuery('a');
    expect(modelTexts()).toEqual(['a', 'b', 'c']);
    await batcher.embedQuery('b');
    expect(modelTexts()).toEqual(['a', 'b', 'c', 'b']);
    // A caller that changes its vector does not change what the cache hands out next.
    hit.fill(0);
    expect(await batcher.embedQuery('a')).toEqual(vectorOf('q:a'));
  });

  it('with cacheSize 0 every call reaches the model', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ cacheSize: 0 }));
    await batcher.embedQuery('a');
    await batcher.embedQuery('a');
    expect(inner.calls.flatMap((c) => c.texts)).toEqual(['a', 'a']);
  });

  it('an aborted caller stops waiting; its text leaves the batch, others are embedded', async () => {
    vi.useFakeTimers();
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts({ windowMs: 5 }));
    const abort = new AbortController();
    const gone = batcher.embedTexts(['abandoned', 'shared'], 'query', abort.signal);
    const kept = batcher.embedTexts(['shared'], 'query');
    abort.abort();
    await expect(gone).rejects.toBeInstanceOf(EmbeddingAbortedError);
    await vi.advanceTimersByTimeAsync(5);
    expect(await kept).toEqual([vectorOf('q:shared')]);
    expect(inner.calls).toEqual([{ kind: 'query', texts: ['shared'] }]);
  });

  it('an abort during the model call rejects that caller at once; the others still get theirs', async () => {
    const inner = fakeEmbedder();
    const batcher = createQueryBatcher(inner, opts());
    inner.hold();
    const abort = new AbortController();
    const gone = batcher.embedTexts(['x'], 'query', abort.signal);
    const kept = batcher.embedQuery('y');
    await tick();
    expect(inner.calls).toHaveLength(1);
    abort.abort();
    await expect(gone).rejects.toBeInstanceOf(EmbeddingAbortedError);
    inner.release();
    expect(await kept).toEqual(vectorOf('q:y'));
  });

  it('refuses bad settings with a typed error', () => {
    const inner = fakeEmbedder();
    expect(() => createQueryBatcher(inner, opts({ maxBatch: 0 }))).toThrow(/maxBatch/);
    expect(() => createQueryBatcher(inner, opts({ windowMs: -1 }))).toThrow(/windowMs/);
    expect(() => createQueryBatcher(inner, opts({ cacheSize: 1.5 }))).toThrow(/cacheSize/);
  });

  it('close finishes what waits, then closes the model', async () => {
    const inner = fakeEmbedder();
    const closed = vi.fn(async () => {});
    inner.close = closed;
    const batcher = createQueryBatcher(inner, opts({ windowMs: 10_000 }));
    const pending = batcher.embedQuery('late');
    await batcher.close();
    expect(await pending).toEqual(vectorOf('q:late'));
    expect(closed).toHaveBeenCalledTimes(1);
    await expect(batcher.embedQuery('after')).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });
});

describe('query batcher over a model that runs one row per call', () => {
  it('sends texts at once, concurrently, keeping de-duplication', async () => {
    const inner = Object.assign(fakeEmbedder(), { rowsPerRun: 1 });
    const batcher = createQueryBatcher(inner, opts({ windowMs: 10_000 }));
    expect(batcher.maxBatch).toBe(1);
    inner.hold();
    const all = Promise.all(['a', 'b', 'a'].map((t) => batcher.embedQuery(t)));
    await tick();
    expect(inner.calls.map((c) => c.texts)).toEqual([['a'], ['b']]);
    inner.release();
    const [a1, b, a2] = await all;
    expect(a1).toEqual(a2);
    expect(b).toEqual(vectorOf('q:b'));
    expect(inner.peak).toBe(2);
  });

  it('queues them into batches when told to', async () => {
    const inner = Object.assign(fakeEmbedder(), { rowsPerRun: 1 });
    const batcher = createQueryBatcher(inner, opts({ queuePerRowModels: true }));
    expect(batcher.maxBatch).toBe(16);
    await Promise.all(['a', 'b'].map((t) => batcher.embedQuery(t)));
    expect(inner.calls.map((c) => c.texts)).toEqual([['a', 'b']]);
  });
});
