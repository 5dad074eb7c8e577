import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { ChunkPayload } from '../../src/domain/types.js';
import { verifyAnswer } from '../../src/domain/citations.js';
import { createAnswerer, type Answerer } from '../../src/generate/answer.js';
import { createExtractiveGenerator } from '../../src/generate/extractive.js';
import { assertLocalModelInstalled, loadLlamaCppModel } from '../../src/generate/llama-cpp.js';
import { createLocalGenerator, type LocalChatModel } from '../../src/generate/local.js';
import { quoteAnswerSchema } from '../../src/generate/quote-schema.js';
import type { ScoredPoint } from '../../src/index/port.js';
import { silentLogger } from '../../src/obs/logger.js';

/**
 * The real local model (what `npm run setup -- --llm` installs; setup --test installs it too) over
 * real SQuAD paragraphs. A 135M model is often wrong, so what is asserted is what srag guarantees:
 * the grammar-constrained reply always parses and only quotes sentences of the source it names, and
 * every answer is either a verified model answer with citations or the extractive fallback with its
 * reason.
 */

const local = loadConfig({ ...process.env, SRAG_LLM: 'local' }).llm.local;
const missing = (() => {
  try {
    if (local) assertLocalModelInstalled(local);
    return '';
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
})();

interface Squad {
  data: { title: string; paragraphs: { context: string; qas: { question: string; answers: { text: string }[] }[] }[] }[];
}
const squad = JSON.parse(readFileSync('../shared/eval/squad/dev-v1.1.json', 'utf8')) as Squad;
const article = squad.data[0];

// The first three paragraphs of the first article, retrieved in this order.
const chunks: ScoredPoint[] = article.paragraphs.slice(0, 3).map((p, i): ScoredPoint => {
  const payload: ChunkPayload = {
    documentId: `squad-0-${i}`,
    contentHash: `squad-0-${i}`,
    chunkIndex: 0,
    chunkCount: 1,
    text: p.context,
    start: 0,
    end: p.context.length,
    title: article.title.replace(/_/g, ' '),
    source: `squad-0-${i}.txt`,
    type: 'text',
    acl: [],
  };
  return { id: payload.documentId, score: 0.9 - i * 0.1, payload };
});
const questions = article.paragraphs.slice(0, 3).map((p) => p.qas[0].question);

// The default reporter shows a skipped file as a count only: say why in the output too.
describe.skipIf(missing !== '')(`local model answers over SQuAD paragraphs${missing ? ` (SKIPPED: ${missing})` : ''}`, () => {
  let model: LocalChatModel;
  let answerer: Answerer;
  const replies: { schema: unknown; text: string }[] = [];

  beforeAll(async () => {
    if (!local) throw new Error('SRAG_LLM=local yields a local model config');
    const real = await loadLlamaCppModel(local, { logger: silentLogger });
    model = {
      name: real.name,
      complete: async (request, signal) => {
        const completion = await real.complete(request, signal);
        replies.push({ schema: request.schema, text: completion.text });
        return completion;
      },
      close: () => real.close(),
    };
    answerer = createAnswerer({
      generator: createLocalGenerator({ model, logger: silentLogger }),
      extractive: createExtractiveGenerator(),
      logger: silentLogger,
    });
  });
  afterAll(async () => {
    await model?.close();
  });

  // Generous: the model reads ~600 tokens of sources on whatever CPU share a busy machine leaves it.
  it.each(questions)('%s', { timeout: 300_000 }, async (question) => {
    const before = replies.length;
    const result = await answerer.answer({ question, chunks });

    // The model was asked, and its constrained reply parses and quotes only the sources it names.
    expect(replies.length).toBe(before + 1);
    const reply = replies[before];
    expect(reply.schema).toEqual(quoteAnswerSchema(chunks));
    const parsed = JSON.parse(reply.text) as { answer: { source: number; quote: string }[] };
    expect(Array.isArray(parsed.answer)).toBe(true);
    for (const pick of parsed.answer) {
      expect(pick.source).toBeGreaterThanOrEqual(1);
      expect(pick.source).toBeLessThanOrEqual(chunks.length);
      expect(chunks[pick.source - 1].payload.text.replace(/\s+/g, ' ')).toContain(pick.quote);
    }

    if (result.mode === 'llm') {
      expect(result.fallbackReason).toBeUndefined();
      expect(result.citations.length).toBeGreaterThan(0);
      expect(verifyAnswer(result.answer, result.citations, chunks).ok).toBe(true);
    } else {
      // Anything the model got wrong is replaced by the extractive answer, saying why.
      expect(result.fallbackReason).toMatch(/^(verification_failed|no_citations)$/);
      expect(verifyAnswer(result.answer, result.citations, chunks).ok).toBe(true);
    }
  });
});

describe('srag up --llm local without the model', () => {
  const srag = (args: string[], env: Record<string, string>) =>
    spawnSync(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', ...args], {
      env: { ...process.env, ...env },
      encoding: 'utf8',
      timeout: 120_000,
    });

  it('stops before starting anything and says how to install it', () => {
    const empty = mkdtempSync(join(tmpdir(), 'srag-nollm-'));
    const run = srag(['up', '--llm', 'local'], { SRAG_CACHE_DIR: empty, SRAG_DATA_DIR: join(empty, 'data'), SRAG_PORT: '0' });
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/MODEL_NOT_FOUND: the local model file .* run npm run setup -- --llm/);
    expect(run.stdout).not.toContain('srag is up');
  });

  it('refuses an unknown --llm value', () => {
    const run = srag(['up', '--llm', 'gpt'], {});
    expect(run.status).toBe(2);
    expect(run.stderr).toMatch(/INVALID_INPUT: --llm takes "local"/);
  });
});
