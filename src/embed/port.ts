/** The Embedder port: in-process ONNX or a remote OpenAI-compatible server, same contract. */
export interface Embedder {
  /** Stable id of the model, part of the pipeline version (e.g. `bge-small-en-v1.5-q`). */
  readonly modelId: string;
  readonly dimension: number;
  /** Unit-length vectors, one per input, in input order. */
  embedDocuments(texts: string[]): Promise<Float32Array[]>;
  /** Unit-length query vector (the model's query instruction is applied here). */
  embedQuery(text: string): Promise<Float32Array>;
  /** Several query vectors in one model call (the query batcher's path); absent: one embedQuery each. */
  embedQueries?(texts: string[]): Promise<Float32Array[]>;
  close(): Promise<void>;
}

/** Counts model tokens (without special tokens); the chunker packs text by this measure. */
export interface TokenCounter {
  countTokens(text: string): number;
}
