import { chunkDocument } from '../domain/chunker.js';
import { chunkId, documentIdFor, sha256Hex } from '../domain/ids.js';
import {
  countErrorCodes,
  LEGACY_POLICY,
  MAX_ERRORS_KEPT,
  type ChunkBatchRef,
  type IngestError,
  type IngestPolicy,
  type PiiPolicy,
  type PipelineRef,
  type PreparedSource,
  type StagedSource,
} from '../domain/ingest.js';
import type { ChunkPayload, ParsedDocument, ParseResult } from '../domain/types.js';
import type { TokenCounter } from '../embed/port.js';
import { DocumentError } from '../errors.js';
import type { VectorIndex } from '../index/port.js';
import { writeSourceErrors } from '../store/job-errors.js';
import type { BlobStore } from '../store/port.js';
import { putCatalogRecord, type CatalogRecord } from '../store/catalog.js';
import { canWriteDocument, existingDocuments, verdictMessage } from './rights.js';

/** Chunks per stored batch: one embed activity and one index activity each. */
export const BATCH_CHUNKS = 256;

export interface StoredPoint {
  id: string;
  payload: ChunkPayload;
}

export interface StoredBatch {
  points: StoredPoint[];
  documentsCompleted: number;
}

interface Unit {
  documentId: string;
  contentHash: string;
  doc: ParsedDocument;
  title: string;
  label: string;
  externalId?: string;
}

/** A BEIR record becomes a document whose text is its title, a blank line, then its text. */
export function recordDocument(title: string, text: string): ParsedDocument {
  const full = title ? `${title}\n\n${text}` : text;
  return {
    type: 'jsonl',
    text: full,
    title: title || undefined,
    pages: [],
    headings: title ? [{ start: 0, end: title.length, level: 1, text: title }] : [],
  };
}

function unitsOf(parsed: ParseResult, staged: StagedSource, errors: IngestError[]): Unit[] {
  if (parsed.kind === 'document') {
    return [
      {
        documentId: documentIdFor(staged.sourceKey),
        contentHash: staged.hash,
        doc: parsed.document,
        title: staged.title ?? parsed.document.title ?? staged.name,
        label: staged.name,
      },
    ];
  }
  for (const e of parsed.errors) errors.push({ source: `${staged.name}:${e.line}`, code: e.code, message: e.message });
  return parsed.records.map((r) => ({
    documentId: documentIdFor(`${staged.sourceKey}#${r.externalId}`),
    contentHash: sha256Hex(`${r.title}\u0000${r.text}`),
    doc: recordDocument(r.title, r.text),
    title: r.title || r.externalId,
    label: `${staged.name}#${r.externalId}`,
    externalId: r.externalId,
  }));
}

export interface PrepareDeps {
  store: BlobStore;
  index: VectorIndex;
  counter: TokenCounter;
  parse: (bytes: Uint8Array, filename: string) => Promise<ParseResult>;
  /** PII policy applied to extracted text before chunking; absent: no detection. */
  pii?: (doc: ParsedDocument, policy: PiiPolicy) => { doc: ParsedDocument; counts: Record<string, number> };
}

function addCounts(into: Record<string, number>, add: Record<string, number>): void {
  for (const [k, v] of Object.entries(add)) into[k] = (into[k] ?? 0) + v;
}

/** Ids already in the index, asked in slices so a large corpus is one round trip per thousand. */
async function presentAcls(index: VectorIndex, collection: string, ids: string[]): Promise<Map<string, string[]>> {
  const present = new Map<string, string[]>();
  for (let i = 0; i < ids.length; i += 1000) {
    for (const p of await index.retrieve(collection, ids.slice(i, i + 1000))) present.set(p.id, p.payload.acl);
  }
  return present;
}

export interface PrepareOptions {
  /** Only these records of a corpus file. */
  only?: string[];
  /** Owner of documents that have none yet (a rebuild restores the catalog's owner). */
  owner?: string;
}

/**
 * Parses a staged source, chunks each of its documents, skips those already indexed with the same
 * content and pipeline, and writes the rest as batches to the store. Deterministic keys: a retry
 * rewrites the same batches.
 *
 * Every document lands in exactly one count: failed (parse error, FORBIDDEN, NO_TEXT), skipped
 * (unchanged), or the `documentsCompleted` of the one batch holding its last chunk (done once that
 * batch is indexed). So `total = failed + skipped + sum(documentsCompleted)`.
 * With `sourceIndex`, every error (not only the kept ones) is written to the job's errors file.
 */
export async function prepareStagedSource(
  deps: PrepareDeps,
  staged: StagedSource,
  acl: string[],
  pipeline: PipelineRef,
  policy: IngestPolicy = LEGACY_POLICY,
  jobId = 'job',
  sourceIndex?: number,
  opts: PrepareOptions = {},
): Promise<PreparedSource> {
  const bytes = await deps.store.get(deps.store.contentKey(staged.hash));
  const parsed = await deps.parse(bytes, staged.name);
  const errors: IngestError[] = [];
  let units = unitsOf(parsed, staged, errors);
  if (opts.only) {
    // A rebuild restores the records the catalog lists, nothing else (deleted ones stay deleted).
    const only = new Set(opts.only);
    units = units.filter((u) => u.externalId !== undefined && only.has(u.externalId));
    errors.length = 0;
  }
  const counts = { total: units.length + errors.length, done: 0, failed: errors.length, skipped: 0 };
  const pii: Record<string, number> = {};

  const existing = await existingDocuments(deps, pipeline.collection, units.map((u) => u.documentId));
  const pending: StoredPoint[][] = [];
  const catalog = new Map<string, CatalogRecord>();
  for (const unit of units) {
    const current = existing.get(unit.documentId);
    const verdict = canWriteDocument(policy, current, acl);
    if (!verdict.ok) {
      if (parsed.kind === 'document') throw new DocumentError('FORBIDDEN', verdictMessage(verdict.reason));
      counts.failed += 1;
      errors.push({ source: unit.label, code: 'FORBIDDEN', message: verdictMessage(verdict.reason) });
      continue;
    }
    if (deps.pii && policy.pii !== 'off') {
      const applied = deps.pii(unit.doc, policy.pii);
      unit.doc = applied.doc;
      addCounts(pii, applied.counts);
    }
    const owner = current?.owner ?? opts.owner ?? policy.owner.user;
    const drafts = chunkDocument(unit.doc, pipeline.chunk, deps.counter);
    if (drafts.length === 0) {
      if (parsed.kind === 'document') throw new DocumentError('NO_TEXT', `${staged.name} has no text to index`);
      counts.failed += 1;
      errors.push({ source: unit.label, code: 'NO_TEXT', message: 'record has no text to index' });
      continue;
    }
    catalog.set(unit.documentId, {
      documentId: unit.documentId,
      // For a corpus record: the corpus file's key (its document id is that key plus the record id).
      sourceKey: staged.sourceKey,
      sourceHash: staged.hash,
      sourceName: staged.name,
      externalId: unit.externalId,
      contentHash: unit.contentHash,
      owner,
      title: unit.title,
      type: unit.doc.type,
      pages: unit.doc.pages.length > 0 ? unit.doc.pages.length : undefined,
      acl,
      pii: policy.pii,
      pipelines: { [pipeline.version]: { collection: pipeline.collection, chunks: drafts.length, state: 'indexing' } },
      updatedAt: new Date().toISOString(),
    });
    pending.push(
      drafts.map((d) => ({
        id: chunkId(unit.documentId, unit.contentHash, d.index, pipeline.version),
        payload: {
          documentId: unit.documentId,
          contentHash: unit.contentHash,
          chunkIndex: d.index,
          chunkCount: drafts.length,
          text: d.text,
          start: d.start,
          end: d.end,
          page: d.page,
          heading: d.heading,
          title: unit.title,
          source: staged.sourceKey.startsWith('file:') ? staged.sourceKey.slice(5) : staged.sourceKey,
          type: unit.doc.type,
          acl,
          externalId: unit.externalId,
          owner,
        },
      })),
    );
  }

  const present = await presentAcls(deps.index, pipeline.collection, pending.flat().map((p) => p.id));
  const batches: ChunkBatchRef[] = [];
  let current: StoredPoint[] = [];
  let completed = 0;
  const flush = async (endsMidDocument: boolean) => {
    if (current.length === 0) return;
    // Keyed by job and source, not by content: identical bytes from two sources are two documents.
    const key = `batches/${pipeline.version}/${jobId}/${sha256Hex(staged.sourceKey).slice(0, 32)}/${batches.length}.json`;
    const body: StoredBatch = { points: current, documentsCompleted: completed };
    await deps.store.put(key, JSON.stringify(body));
    const ref: ChunkBatchRef = { key, chunks: current.length, documentsCompleted: completed };
    if (endsMidDocument) ref.endsMidDocument = true;
    batches.push(ref);
    current = [];
    completed = 0;
  };
  for (const points of pending) {
    // Same ids means same document, content, chunk and pipeline: nothing to embed again.
    // A changed ACL re-indexes the document so the filter inside the query sees the new groups.
    const unchanged = points.every((p) => aclEqual(present.get(p.id), acl));
    const record = catalog.get(points[0].payload.documentId);
    if (unchanged) {
      counts.skipped += 1;
      // Already indexed: the catalog says so (and gains the record if it predates the catalog).
      if (record) await putCatalogRecord(deps.store, { ...record, pipelines: { [pipeline.version]: { ...record.pipelines[pipeline.version], state: 'indexed' } } });
      continue;
    }
    // The system of record learns of the document before its chunks reach the index.
    if (record) await putCatalogRecord(deps.store, record);
    for (let i = 0; i < points.length; i++) {
      current.push(points[i]);
      const last = i === points.length - 1;
      // Counted before the flush: a document whose last chunk fills a batch exactly completes with
      // that batch, not with the next one (or with none, at the end of the source).
      if (last) completed += 1;
      if (current.length >= BATCH_CHUNKS) await flush(!last);
    }
  }
  await flush(false);
  if (sourceIndex !== undefined) await writeSourceErrors(deps.store, jobId, sourceIndex, errors, 0);
  const kept = errors.slice(0, MAX_ERRORS_KEPT);
  const out: PreparedSource = {
    documents: counts,
    errors: kept,
    errorsDropped: errors.length - kept.length,
    errorCodes: countErrorCodes({}, errors),
    batches,
  };
  if (Object.keys(pii).length > 0) out.pii = pii;
  return out;
}

function aclEqual(a: string[] | undefined, b: string[]): boolean {
  return a !== undefined && a.length === b.length && a.every((g, i) => g === b[i]);
}
