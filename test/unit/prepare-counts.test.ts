// Document counts of prepareStagedSource, with fakes passed through PrepareDeps: every document ends
// in exactly one of failed, skipped or the batch holding its last chunk, so a finished job has
// total = done + failed + skipped, including documents that end exactly at a batch boundary.
import { describe, expect, it } from 'vitest';
import { documentIdFor, sha256Hex } from '../../src/domain/ids.js';
import { MAX_ERRORS_KEPT, type IngestPolicy, type PipelineRef, type PreparedSource, type StagedSource } from '../../src/domain/ingest.js';
import type { ChunkPayload, CorpusRecord, ParsedDocument, ParseResult, RecordError } from '../../src/domain/types.js';
import type { PointFilter, ScoredPoint, VectorIndex } from '../../src/index/port.js';
import { BATCH_CHUNKS, prepareStagedSource, type PrepareDeps, type StoredBatch } from '../../src/ingest/prepare.js';
import type { BlobStore } from '../../src/store/port.js';

const pipeline: PipelineRef = { version: 'vcount', collection: 'c_count', modelId: 'fake', dimension: 4, chunk: { maxTokens: 4, overlapTokens: 0 } };
const words = { countTokens: (t: string) => t.split(/\s+/).filter(Boolean).length };
const member: IngestPolicy = { owner: { user: 'ann', groups: ['team'], admin: false }, replaceAcl: false, pii: 'off' };

/** An in-memory BlobStore: enough of the port for prepare and the errors file. */
function memoryStore(): BlobStore & { data: Map<string, Buffer> } {
  const data = new Map<string, Buffer>();
  const contentKey = (hash: string) => `sources/${hash.slice(0, 2)}/${hash}`;
  const putContent = async (bytes: Uint8Array) => {
    const hash = sha256Hex(Buffer.from(bytes).toString('latin1'));
    data.set(contentKey(hash), Buffer.from(bytes));
    return { hash, size: bytes.length };
  };
  return {
    data,
    async put(key, value) {
      data.set(key, Buffer.from(value));
    },
    async get(key) {
      const v = data.get(key);
      if (!v) throw new Error(`no ${key}`);
      return v;
    },
    async tryGet(key) {
      return data.get(key);
    },
    async has(key) {
      return data.has(key);
    },
    async delete(key) {
      data.delete(key);
    },
    async list(prefix) {
      return [...data.keys()].filter((k) => k.startsWith(prefix)).sort();
    },
    putContent,
    async putStream() {
      throw new Error('not used here');
    },
    async putFile() {
      throw new Error('not used here');
    },
    contentKey,
  };
}

/** An in-memory index of payloads: answers the two questions prepare asks (who exists, which ids). */
function memoryIndex(): VectorIndex & { points: Map<string, ChunkPayload> } {
  const points = new Map<string, ChunkPayload>();
  const unused = async (): Promise<never> => {
    throw new Error('not used by prepare');
  };
  const matches = (p: ChunkPayload, filter?: PointFilter) => !filter?.documentIds || filter.documentIds.includes(p.documentId);
  return {
    points,
    ensureCollection: unused,
    listCollections: unused,
    dropCollection: unused,
    exportPoints: unused,
    upsert: unused,
    deleteWhere: unused,
    search: unused,
    count: unused,
    async retrieve(_collection, ids): Promise<ScoredPoint[]> {
      return ids.flatMap((id) => {
        const payload = points.get(id);
        return payload ? [{ id, score: 1, payload }] : [];
      });
    },
    async scroll(_collection, filter, visit) {
      for (const [id, p] of points) if (matches(p, filter)) visit(id, p);
    },
    getAlias: unused,
    setAlias: unused,
    createSnapshot: unused,
    restoreSnapshot: unused,
    async close() {},
  };
}

/** `n` sentences of exactly maxTokens words: one chunk each. */
function sentences(n: number, tag: string): string {
  return Array.from({ length: n }, (_, i) => `${tag} sentence number ${i}.`).join(' ');
}

/** One document of `pages` pages, one short line each: one chunk per page (chunks never cross pages). */
function pagedDocument(pages: number): ParsedDocument {
  let text = '';
  const spans = [];
  for (let p = 1; p <= pages; p++) {
    const start = text.length;
    text += `Page ${p} says hi.\n`;
    spans.push({ page: p, start, end: text.length });
  }
  return { type: 'pdf', text, pages: spans, headings: [] };
}

function setup(parsed: ParseResult) {
  const store = memoryStore();
  const index = memoryIndex();
  const deps: PrepareDeps = { store, index, counter: words, parse: async () => parsed };
  return { store, index, deps };
}

async function staged(store: BlobStore, name: string): Promise<StagedSource> {
  const { hash, size } = await store.putContent(Buffer.from(name));
  return { hash, size, name, sourceKey: `file:/data/${name}` };
}

/** What indexBatch would do: the batch's points land in the index with their payloads. */
async function indexAll(store: ReturnType<typeof memoryStore>, index: ReturnType<typeof memoryIndex>, prepared: PreparedSource): Promise<void> {
  for (const b of prepared.batches) {
    const body = JSON.parse((await store.get(b.key)).toString('utf8')) as StoredBatch;
    for (const p of body.points) index.points.set(p.id, p.payload);
  }
}

function completed(prepared: PreparedSource): number {
  return prepared.batches.reduce((n, b) => n + b.documentsCompleted, 0);
}

/** The counts once every batch is indexed, as the ingestDocument workflow adds them up. */
function finished(prepared: PreparedSource) {
  return { ...prepared.documents, done: prepared.documents.done + completed(prepared) };
}

function expectInvariant(prepared: PreparedSource): void {
  const c = finished(prepared);
  expect(c.total).toBe(c.done + c.failed + c.skipped);
  const histogram = Object.values(prepared.errorCodes).reduce((a, b) => a + b, 0);
  expect(histogram).toBe(prepared.errors.length + prepared.errorsDropped);
}

describe('prepareStagedSource document counts', () => {
  it.each([
    [BATCH_CHUNKS, [{ chunks: BATCH_CHUNKS, documentsCompleted: 1 }]],
    [2 * BATCH_CHUNKS, [
      { chunks: BATCH_CHUNKS, documentsCompleted: 0, endsMidDocument: true },
      { chunks: BATCH_CHUNKS, documentsCompleted: 1 },
    ]],
    [BATCH_CHUNKS + 1, [
      { chunks: BATCH_CHUNKS, documentsCompleted: 0, endsMidDocument: true },
      { chunks: 1, documentsCompleted: 1 },
    ]],
  ])('counts a document of %i chunks done with the batch holding its last chunk', async (pages, expected) => {
    const { store, deps } = setup({ kind: 'document', document: pagedDocument(pages) });
    const prepared = await prepareStagedSource(deps, await staged(store, 'big.pdf'), [], pipeline);
    expect(prepared.batches.map(({ chunks, documentsCompleted, endsMidDocument }) => ({ chunks, documentsCompleted, ...(endsMidDocument ? { endsMidDocument } : {}) }))).toEqual(expected);
    expect(finished(prepared)).toEqual({ total: 1, done: 1, failed: 0, skipped: 0 });
    expectInvariant(prepared);
  });

  it.each([1, 2])('a record of exactly %i x 256 chunks completes with its own batch, not the next one', async (multiple) => {
    const records: CorpusRecord[] = [
      { externalId: 'a', title: '', text: sentences(multiple * BATCH_CHUNKS, 'alpha') },
      { externalId: 'b', title: '', text: sentences(3, 'beta') },
    ];
    const { store, deps } = setup({ kind: 'records', records, errors: [] });
    const prepared = await prepareStagedSource(deps, await staged(store, 'corpus.jsonl'), [], pipeline);
    expect(prepared.batches.map((b) => b.chunks)).toEqual([...Array<number>(multiple).fill(BATCH_CHUNKS), 3]);
    // Record a ends exactly at a boundary: its batch completes it; the last batch completes b alone.
    expect(prepared.batches.map((b) => b.documentsCompleted)).toEqual([...Array<number>(multiple - 1).fill(0), 1, 1]);
    expect(finished(prepared)).toEqual({ total: 2, done: 2, failed: 0, skipped: 0 });
    expectInvariant(prepared);
  });

  it('counts each document once in a mixed corpus: parse errors, NO_TEXT, FORBIDDEN, unchanged and new', async () => {
    const parseErrors: RecordError[] = [
      { line: 4, code: 'INVALID_INPUT', message: 'not JSON' },
      { line: 9, code: 'INVALID_INPUT', message: 'no "_id"' },
    ];
    const first: CorpusRecord[] = [
      { externalId: 'keep-1', title: 'One', text: sentences(2, 'one') },
      { externalId: 'keep-2', title: '', text: sentences(BATCH_CHUNKS, 'two') },
    ];
    const { store, index, deps } = setup({ kind: 'records', records: first, errors: [] });
    const source = await staged(store, 'mixed.jsonl');
    const initial = await prepareStagedSource(deps, source, ['team'], pipeline, member, 'job_first', 0);
    expect(finished(initial)).toEqual({ total: 2, done: 2, failed: 0, skipped: 0 });
    await indexAll(store, index, initial);
    // Someone else's record, restricted to a group ann does not hold.
    const lockedId = documentIdFor(`${source.sourceKey}#locked`);
    index.points.set('locked-point', { ...[...index.points.values()][0], documentId: lockedId, acl: ['secret'], owner: 'bob' });

    const second: CorpusRecord[] = [
      ...first,
      { externalId: 'locked', title: '', text: sentences(2, 'locked') },
      { externalId: 'blank', title: '', text: '   ' },
      { externalId: 'new-1', title: 'New', text: sentences(BATCH_CHUNKS - 1, 'new') },
      { externalId: 'new-2', title: '', text: sentences(1, 'newer') },
    ];
    const again = setup({ kind: 'records', records: second, errors: parseErrors });
    const prepared = await prepareStagedSource({ ...deps, parse: again.deps.parse }, source, ['team'], pipeline, member, 'job_second', 7);

    expect(finished(prepared)).toEqual({ total: 8, done: 2, failed: 4, skipped: 2 });
    expect(prepared.documents.done).toBe(0);
    expect(prepared.errorCodes).toEqual({ INVALID_INPUT: 2, FORBIDDEN: 1, NO_TEXT: 1 });
    expectInvariant(prepared);
    const file = JSON.parse((await store.get('jobs/job_second/errors/7.json')).toString('utf8')) as Array<{ source: string; code: string }>;
    expect(file.map((e) => e.code).sort()).toEqual(['FORBIDDEN', 'INVALID_INPUT', 'INVALID_INPUT', 'NO_TEXT']);
    // The first run had no errors: no file for it.
    expect(await store.has('jobs/job_first/errors/0.json')).toBe(false);
  });

  it('counts every error in the histogram and the errors file, beyond the ones kept in the report', async () => {
    const n = MAX_ERRORS_KEPT + 57;
    const records: CorpusRecord[] = Array.from({ length: n }, (_, i) => ({ externalId: `empty-${i}`, title: '', text: ' ' }));
    records.push({ externalId: 'ok', title: '', text: sentences(2, 'fine') });
    const errors: RecordError[] = Array.from({ length: 5 }, (_, i) => ({ line: 1000 + i, code: 'INVALID_INPUT', message: 'bad line' }));
    const { store, deps } = setup({ kind: 'records', records, errors });
    const prepared = await prepareStagedSource(deps, await staged(store, 'many.jsonl'), [], pipeline, member, 'job_many', 2);

    expect(prepared.errors).toHaveLength(MAX_ERRORS_KEPT);
    expect(prepared.errorsDropped).toBe(n + 5 - MAX_ERRORS_KEPT);
    expect(prepared.errorCodes).toEqual({ NO_TEXT: n, INVALID_INPUT: 5 });
    expect(finished(prepared)).toEqual({ total: n + 6, done: 1, failed: n + 5, skipped: 0 });
    expectInvariant(prepared);
    const file = JSON.parse((await store.get('jobs/job_many/errors/2.json')).toString('utf8')) as unknown[];
    expect(file).toHaveLength(n + 5);
  });

  it('a re-run without errors removes the stale errors file of the same job and source', async () => {
    const bad = setup({ kind: 'records', records: [{ externalId: 'x', title: '', text: ' ' }], errors: [] });
    const source = await staged(bad.store, 'rerun.jsonl');
    await prepareStagedSource(bad.deps, source, [], pipeline, member, 'job_rerun', 0);
    expect(await bad.store.has('jobs/job_rerun/errors/0.json')).toBe(true);
    const fixed = { ...bad.deps, parse: async (): Promise<ParseResult> => ({ kind: 'records', records: [{ externalId: 'x', title: '', text: 'Now it has text.' }], errors: [] }) };
    await prepareStagedSource(fixed, source, [], pipeline, member, 'job_rerun', 0);
    expect(await bad.store.has('jobs/job_rerun/errors/0.json')).toBe(false);
  });

  it('rights come from the catalog: a collection being built, which lacks the document, still refuses a writer without its groups', async () => {
    const records: CorpusRecord[] = [{ externalId: 'secret', title: 'Salaries', text: sentences(2, 'pay') }];
    const hr: IngestPolicy = { owner: { user: 'hana', groups: ['hr'], admin: false }, replaceAcl: false, pii: 'off' };
    const { store, deps } = setup({ kind: 'records', records, errors: [] });
    const source = await staged(store, 'pay.jsonl');
    // Indexed into the served pipeline by HR: its catalog record holds the ACL.
    const first = await prepareStagedSource(deps, source, ['hr'], pipeline, hr, 'job_hr', 0);
    expect(first.batches.length).toBe(1);
    // A candidate pipeline's collection is empty; ann (team only) tries to write the same record there.
    const candidate: PipelineRef = { ...pipeline, version: 'vcand', collection: 'c_cand' };
    const fresh = { ...deps, index: memoryIndex() };
    const attempt = await prepareStagedSource(fresh, source, ['team'], candidate, member, 'job_ann', 0);
    expect(attempt.documents).toMatchObject({ total: 1, failed: 1 });
    expect(attempt.errorCodes).toEqual({ FORBIDDEN: 1 });
    expect(attempt.batches).toHaveLength(0);
    // HR itself may: the same record goes to the candidate with its ACL unchanged.
    const allowed = await prepareStagedSource(fresh, source, ['hr'], candidate, hr, 'job_hr2', 0);
    expect(allowed.batches).toHaveLength(1);
  });
});
