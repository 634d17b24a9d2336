import type { WorkflowHandle } from '@temporalio/client';
import { defaultPayloadConverter } from '@temporalio/common';
import type { StageResult } from '../lib/stage';

/**
 * The stage results of a run by stage id (`split`, `train/round-0/shard-1`, …), read from its
 * history: every completed stage activity returned one, executed or served from the cache.
 */
export async function stageResultsOf(handle: WorkflowHandle): Promise<Map<string, StageResult>> {
  const results = new Map<string, StageResult>();
  for (const event of (await handle.fetchHistory()).events ?? []) {
    const payload = event.activityTaskCompletedEventAttributes?.result?.payloads?.[0];
    if (!payload) continue;
    const value = defaultPayloadConverter.fromPayload<Partial<StageResult>>(payload);
    if (value && typeof value.stage === 'string' && typeof value.cacheKey === 'string' && typeof value.ref === 'string') results.set(value.stage, value as StageResult);
  }
  return results;
}

/** The results of a pipeline stage: the stage itself, or every sub-step of a composite one (`train/…`). */
export function resultsOfStage(results: Map<string, StageResult>, stage: string): StageResult[] {
  return [...results.values()].filter((r) => r.stage === stage || r.stage.startsWith(`${stage}/`)).sort((a, b) => (a.stage < b.stage ? -1 : 1));
}

/** What a pipeline stage handed downstream: its result, or for a composite stage its last sub-step's (train's export). */
export function outputOfStage(results: Map<string, StageResult>, stage: string): StageResult | undefined {
  return results.get(stage) ?? [...results.values()].filter((r) => r.stage.startsWith(`${stage}/`)).at(-1);
}
