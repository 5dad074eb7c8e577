import type { PipelineRef } from './ingest.js';

/** How much worse than the served collection a candidate may score on the gate's eval set and still switch. */
export interface GateTolerance {
  ndcg10: number;
  recall100: number;
}

export interface GateScores {
  ndcg10: number;
  recall100: number;
  mrr10: number;
  queries: number;
}

/** Pure: the candidate passes when neither figure drops by more than its tolerance. */
export function gateVerdict(served: GateScores, candidate: GateScores, tolerance: GateTolerance): { pass: boolean; reason: string } {
  const dn = candidate.ndcg10 - served.ndcg10;
  const dr = candidate.recall100 - served.recall100;
  const fmt = (x: number) => (x >= 0 ? `+${x.toFixed(4)}` : x.toFixed(4));
  const pass = dn >= -tolerance.ndcg10 && dr >= -tolerance.recall100;
  return {
    pass,
    reason: `nDCG@10 ${candidate.ndcg10.toFixed(4)} vs ${served.ndcg10.toFixed(4)} (${fmt(dn)}, tolerance ${tolerance.ndcg10}); Recall@100 ${candidate.recall100.toFixed(4)} vs ${served.recall100.toFixed(4)} (${fmt(dr)}, tolerance ${tolerance.recall100})`,
  };
}

export type RolloutPhase =
  | 'building'
  | 'gating'
  | 'awaiting_approval'
  | 'switching'
  | 'checking'
  | 'serving'
  | 'rejected'
  | 'aborted'
  | 'rolled_back'
  | 'done';

export interface RolloutState {
  rolloutId: string;
  phase: RolloutPhase;
  candidate: PipelineRef;
  served?: PipelineRef;
  build?: { documents: number; done: number; failed: number; chunks: number };
  gate?: { served: GateScores; candidate: GateScores; pass: boolean; reason: string };
  previous?: string;
  /** Why it ended as it did (rejected, aborted, rolled back). */
  note?: string;
  /** When the previous collection is dropped, once serving (ISO). */
  graceUntil?: string;
}
