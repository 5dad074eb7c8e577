/**
 * Custom search attributes of srag's lifecycle workflows, so ops can filter them in the Temporal UI
 * (`SragKind = 'restoreDrill' AND SragOutcome = 'failed'`). Plain keys (name + Keyword type), usable by
 * workflow code, the client and the dev server bootstrap alike; registered on the server at start-up.
 */
export const SEARCH_ATTRIBUTES = {
  kind: { name: 'SragKind', type: 'KEYWORD' },
  collection: { name: 'SragCollection', type: 'KEYWORD' },
  pipeline: { name: 'SragPipeline', type: 'KEYWORD' },
  outcome: { name: 'SragOutcome', type: 'KEYWORD' },
} as const;

export type LifecycleKind = 'snapshotIndex' | 'restoreDrill' | 'restoreIndex' | 'rolloutPipeline';
