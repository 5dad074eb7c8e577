/**
 * A search hit's relevance as a user can read it: the chance, from 0 to 1, that the passage is the one
 * that answers the question, read off the dense (cosine) similarity through a logistic curve fitted
 * per embedding model on labelled data (`npm run bench:relevance` refits and prints the curve). Raw
 * cosines mean little on their own (bge-small rates unrelated English passages 0.5-0.6), and fused
 * RRF values (0.016-0.033) mean nothing to a reader.
 */

export interface RelevanceCurve {
  /** Cosine at which relevance is 0.5. */
  center: number;
  /** Cosine distance over which the odds change e-fold. */
  scale: number;
}

/**
 * Fitted on SQuAD v1.1 dev (300 in-corpus questions with their own paragraph as the relevant one and
 * 300 questions of held-out articles, top-5 hybrid hits each, all 2,067 paragraphs indexed).
 */
const CURVES: Readonly<Record<string, RelevanceCurve>> = {
  'bge-small-en-v1.5-q': { center: 0.767, scale: 0.0516 },
  'all-minilm-l6-v2-q': { center: 0.691, scale: 0.1045 },
};

/** The curve of a model, if one was fitted. */
export function relevanceCurveFor(modelId: string): RelevanceCurve | undefined {
  return CURVES[modelId];
}

/** Relevance in [0, 1], to three decimals. */
export function relevanceOf(curve: RelevanceCurve, cosine: number): number {
  const p = 1 / (1 + Math.exp(-(cosine - curve.center) / curve.scale));
  return Math.round(p * 1000) / 1000;
}
