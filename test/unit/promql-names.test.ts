import { describe, expect, it } from 'vitest';
import { exposedNames, metricNamesIn, sampleValue } from '../support/promql.js';

describe('metricNamesIn', () => {
  it.each([
    ['up{job="srag-api"} == 0', ['up']],
    ['time() - srag_snapshot_last_verified_timestamp_seconds > 26 * 3600', ['srag_snapshot_last_verified_timestamp_seconds']],
    [
      'histogram_quantile(0.99, sum by (le, route) (rate(srag_http_request_duration_seconds_bucket{route="/query"}[5m]))) > 2.5',
      ['srag_http_request_duration_seconds_bucket'],
    ],
    [
      'sum(rate(srag_ingest_documents_total{outcome="failed"}[1h])) / clamp_min(sum(rate(srag_ingest_documents_total[1h])), 1e-9) > 0.1',
      ['srag_ingest_documents_total'],
    ],
    ['srag_volume_free_bytes / on (volume, instance) srag_volume_size_bytes < 0.1', ['srag_volume_free_bytes', 'srag_volume_size_bytes']],
    ['sum(rate(temporal_activity_execution_failed_total{task_queue=~"$queue"}[$__rate_interval]))', ['temporal_activity_execution_failed_total']],
    ['srag_task_queue_backlog and deriv(srag_task_queue_backlog[15m]) > 0', ['srag_task_queue_backlog']],
  ])('%s', (expr, names) => {
    expect(metricNamesIn(expr).sort()).toEqual([...names].sort());
  });
});

describe('exposedNames and sampleValue', () => {
  const scrape = [
    '# HELP srag_x_total x',
    '# TYPE srag_x_total counter',
    'srag_x_total{outcome="ok"} 3',
    'srag_x_total{outcome="failed"} 1',
    '# TYPE srag_h_seconds histogram',
    '# TYPE srag_labelled_total counter',
    'temporal_num_pollers{poller_type="activity_task"} 2',
  ].join('\n');
  it('knows declared families (histogram parts too) and samples', () => {
    const names = exposedNames(scrape);
    for (const n of ['srag_x_total', 'srag_h_seconds_bucket', 'srag_h_seconds_count', 'srag_labelled_total', 'temporal_num_pollers']) expect(names).toContain(n);
    expect(names).not.toContain('srag_missing');
  });
  it('sums the samples that match the labels given', () => {
    expect(sampleValue(scrape, 'srag_x_total', { outcome: 'failed' })).toBe(1);
    expect(sampleValue(scrape, 'srag_x_total')).toBe(4);
    expect(sampleValue(scrape, 'srag_x_total', { outcome: 'nope' })).toBeUndefined();
  });
});
