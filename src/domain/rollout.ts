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
  | 'awaiting_window'
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
  /** When the patch window opens, while waiting for it (ISO). */
  windowOpens?: string;
  /** When the previous collection is dropped, once serving (ISO). */
  graceUntil?: string;
}

/**
 * A patch window: the hours (UTC) in which a rollout may switch the alias, e.g. 02:00-04:00 on
 * Saturdays and Sundays. `days` are 0 (Sunday) .. 6; absent means every day. An end hour before the
 * start hour runs past midnight (22-02).
 */
export interface PatchWindow {
  startHour: number;
  endHour: number;
  days?: number[];
}

/** Parses `02-04` or `sat,sun 02-04` (hours UTC). Throws a plain Error saying what is wrong. */
export function parsePatchWindow(text: string): PatchWindow {
  const m = /^(?:([a-z,]+)\s+)?(\d{1,2})-(\d{1,2})$/i.exec(text.trim());
  if (!m) throw new Error(`not a patch window: ${text} (use e.g. "02-04" or "sat,sun 02-04", hours UTC)`);
  const names = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const days = m[1]?.toLowerCase().split(',').map((d) => {
    const i = names.indexOf(d.slice(0, 3));
    if (i < 0) throw new Error(`not a weekday: ${d}`);
    return i;
  });
  const startHour = Number(m[2]);
  const endHour = Number(m[3]);
  if (startHour > 23 || endHour > 24 || startHour === endHour) throw new Error(`not a patch window: ${text}`);
  return days ? { startHour, endHour, days } : { startHour, endHour };
}

/** Milliseconds from `now` until the window is open (0 when it is open now). Pure. */
export function msUntilWindow(window: PatchWindow, now: Date): number {
  const HOUR = 3_600_000;
  const open = (t: Date): boolean => {
    const h = t.getUTCHours();
    const inHours = window.startHour < window.endHour ? h >= window.startHour && h < window.endHour : h >= window.startHour || h < window.endHour;
    if (!inHours) return false;
    if (!window.days) return true;
    // A window past midnight belongs to the day it started on.
    const day = window.startHour > window.endHour && h < window.endHour ? (t.getUTCDay() + 6) % 7 : t.getUTCDay();
    return window.days.includes(day);
  };
  if (open(now)) return 0;
  // The next full hour boundary at which it opens (within 8 days).
  const base = Math.floor(now.getTime() / HOUR) * HOUR;
  for (let i = 1; i <= 24 * 8; i++) {
    const t = new Date(base + i * HOUR);
    if (open(t)) return t.getTime() - now.getTime();
  }
  throw new Error('the patch window never opens');
}
