/**
 * Which files make up a local embedding model, and how to use it (pooling, query instruction).
 * An optional `srag-model.json` manifest in the model directory wins; otherwise the profile is
 * inferred from the ONNX file's name for the model families we know.
 */
import type { Dirent } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { z } from 'zod';
import { AppError } from '../errors.js';

export type Pooling = 'cls' | 'mean';

export interface ModelProfile {
  /** Stable model id, part of the pipeline version. */
  id: string;
  pooling: Pooling;
  /** Prepended to queries only (embedQuery). */
  queryPrefix: string;
  /** Prepended to documents (embedDocuments); empty for bge and MiniLM. */
  documentPrefix: string;
  /** Expected output dimension, when the manifest states one. */
  dimension?: number;
  /** Where the pooling/prefix came from; `default` means a guess worth a warning. */
  source: 'manifest' | 'name' | 'default';
}

export interface ModelFiles {
  dir: string;
  onnxPath: string;
  tokenizerPath: string;
  manifestPath?: string;
}

export const MANIFEST_FILE = 'srag-model.json';
export const BGE_EN_QUERY_PREFIX = 'Represent this sentence for searching relevant passages: ';
// The instruction the BGE authors publish for their Chinese models.
export const BGE_ZH_QUERY_PREFIX = '为这个句子生成表示以用于检索相关文章：';

// Other tools may record more about the model here (source, licence); unknown keys are ignored.
const Manifest = z.object({
  id: z.string().trim().min(1).optional(),
  pooling: z.enum(['cls', 'mean']).optional(),
  queryPrefix: z.string().optional(),
  documentPrefix: z.string().optional(),
  dimension: z.number().int().positive().optional(),
});
export type ModelManifest = z.infer<typeof Manifest>;

const SETUP_HINT = 'run `npm run setup` to fetch the default model, or point SRAG_MODEL_DIR at a model directory';

/** Finds the single `*.onnx` and `*tokenizer.json` (and the optional manifest) in `dir`. */
export async function findModelFiles(dir: string): Promise<ModelFiles> {
  let names: string[];
  try {
    const entries = await readdir(dir, { withFileTypes: true });
    // Symlinks count when they point at files: a shared model cache is often linked in.
    const isFile = async (e: Dirent) =>
      e.isFile() || (e.isSymbolicLink() && (await stat(join(dir, e.name)).then((s) => s.isFile(), () => false)));
    const flags = await Promise.all(entries.map(isFile));
    names = entries.filter((_, i) => flags[i]).map((e) => e.name);
  } catch (cause) {
    throw new AppError('MODEL_NOT_FOUND', `embedding model directory ${dir} is missing or unreadable; ${SETUP_HINT}`, {
      cause,
      details: { modelDir: dir },
    });
  }
  const pick = (what: string, match: (n: string) => boolean): string => {
    const found = names.filter(match).sort();
    if (found.length === 0) {
      throw new AppError('MODEL_NOT_FOUND', `no ${what} file in embedding model directory ${dir}; ${SETUP_HINT}`, {
        details: { modelDir: dir },
      });
    }
    if (found.length > 1) {
      throw new AppError('MODEL_ERROR', `several ${what} files in ${dir} (${found.join(', ')}); keep exactly one`, {
        details: { modelDir: dir, files: found },
      });
    }
    return join(dir, found[0]);
  };
  return {
    dir,
    onnxPath: pick('*.onnx', (n) => n.endsWith('.onnx')),
    tokenizerPath: pick('*tokenizer.json', (n) => n.endsWith('tokenizer.json')),
    manifestPath: names.includes(MANIFEST_FILE) ? join(dir, MANIFEST_FILE) : undefined,
  };
}

/** Pooling and query instruction for the model families we know, by (file or model) name. */
export function inferProfileFromName(name: string): Pick<ModelProfile, 'pooling' | 'queryPrefix' | 'documentPrefix'> & {
  known: boolean;
} {
  const n = name.toLowerCase();
  if (n.includes('bge')) {
    const queryPrefix = /bge-(small|base|large)-en/.test(n)
      ? BGE_EN_QUERY_PREFIX
      : /bge-(small|base|large)-zh/.test(n)
        ? BGE_ZH_QUERY_PREFIX
        : '';
    return { pooling: 'cls', queryPrefix, documentPrefix: '', known: true };
  }
  if (n.includes('minilm') || n.includes('mpnet')) return { pooling: 'mean', queryPrefix: '', documentPrefix: '', known: true };
  // Mean pooling is the sentence-transformers default, the least bad guess for an unknown model.
  return { pooling: 'mean', queryPrefix: '', documentPrefix: '', known: false };
}

async function readManifest(path: string): Promise<ModelManifest> {
  let json: unknown;
  try {
    json = JSON.parse(await readFile(path, 'utf8'));
  } catch (cause) {
    throw new AppError('MODEL_ERROR', `model manifest ${path} is not readable JSON`, { cause, details: { path } });
  }
  const parsed = Manifest.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
    throw new AppError('MODEL_ERROR', `invalid model manifest ${path}: ${issues}`, { details: { path } });
  }
  return parsed.data;
}

/** Manifest fields first, then what the ONNX file name tells; the id defaults to that name. */
export async function resolveModelProfile(files: ModelFiles): Promise<ModelProfile> {
  const manifest = files.manifestPath ? await readManifest(files.manifestPath) : {};
  const fileId = basename(files.onnxPath, '.onnx');
  const inferred = inferProfileFromName(fileId);
  const statesHowToUse = manifest.pooling !== undefined;
  return {
    id: manifest.id ?? fileId,
    pooling: manifest.pooling ?? inferred.pooling,
    queryPrefix: manifest.queryPrefix ?? inferred.queryPrefix,
    documentPrefix: manifest.documentPrefix ?? inferred.documentPrefix,
    dimension: manifest.dimension,
    source: statesHowToUse ? 'manifest' : inferred.known ? 'name' : 'default',
  };
}

/**
 * Whether the graph quantizes activations at run time (DynamicQuantizeLinear, as in the `-q` models
 * of langchain4j). Its scale is computed over the whole input tensor, so a sequence's vector shifts
 * with the other sequences and the padding in its batch (measured: cosine down to 0.984 on
 * bge-small-en-v1.5-q). Op types are plain strings in the protobuf, so a byte search finds them.
 */
export async function usesDynamicQuantization(onnxPath: string): Promise<boolean> {
  const bytes = await readFile(onnxPath);
  return bytes.includes('DynamicQuantizeLinear');
}
