import type { ScheduleKind, ScheduleSummary } from '../lifecycle.js';
import { scheduleIdFor } from '../lifecycle.js';
import { fail, messageOf, ok, skipped, warn, type CheckResult } from './check.js';

export interface ScheduleExpectation {
  alias: string;
  /** The configured interval or cron per kind; undefined when set to `off`. */
  every: Partial<Record<ScheduleKind, string>>;
}

/**
 * The snapshot and drill schedules `srag up` creates exist, are not paused, and when they run next.
 * `list` is undefined when Temporal cannot be reached; `why` then says so.
 */
export async function checkSchedules(
  expected: ScheduleExpectation,
  list: (() => Promise<ScheduleSummary[]>) | undefined,
  why: string | undefined,
  name = 'schedules',
): Promise<CheckResult> {
  const kinds = (['snapshot', 'drill'] as const).filter((k) => expected.every[k]);
  if (kinds.length === 0) return ok(name, 'snapshot and drill schedules are off in config (SRAG_SNAPSHOT_EVERY, SRAG_DRILL_EVERY)');
  if (!list) return skipped(name, `not checked: ${why ?? 'Temporal is not reachable'}`);
  let found: ScheduleSummary[];
  try {
    found = await list();
  } catch (err) {
    return fail(name, `cannot read the schedules: ${messageOf(err)}`, 'check that this client may describe schedules in the namespace');
  }
  const parts: string[] = [];
  const fixes: string[] = [];
  for (const kind of kinds) {
    const id = scheduleIdFor(expected.alias, kind);
    const s = found.find((x) => x.kind === kind);
    if (!s) {
      parts.push(`${id} is missing`);
      fixes.push(`the ${kind} schedule is created by \`srag up\`/\`srag serve\` at start`);
    } else if (s.paused) {
      parts.push(`${id} is PAUSED${s.note ? ` (${s.note})` : ''}`);
      fixes.push(`\`srag schedules resume ${kind}\` (a failed run pauses its schedule: look at it in the Temporal UI first)`);
    } else {
      parts.push(`${id} active, next run ${s.nextRun ?? 'not planned'}`);
    }
  }
  return fixes.length > 0 ? warn(name, parts.join('; '), fixes.join('; ')) : ok(name, parts.join('; '));
}
