import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Custom search attributes a run sets, so runs can be found and compared in the UI. */
export const ARENA_CONFIG = defineSearchAttributeKey('ArenaConfig', SearchAttributeType.KEYWORD);
export const ARENA_PIPELINE = defineSearchAttributeKey('ArenaPipeline', SearchAttributeType.KEYWORD);
export const ARENA_STATUS = defineSearchAttributeKey('ArenaStatus', SearchAttributeType.KEYWORD);
export const ARENA_VAL_ACCURACY = defineSearchAttributeKey('ArenaValAccuracy', SearchAttributeType.DOUBLE);
export const ARENA_VAL_LOG_LOSS = defineSearchAttributeKey('ArenaValLogLoss', SearchAttributeType.DOUBLE);

export const ARENA_SEARCH_ATTRIBUTES = [ARENA_CONFIG, ARENA_PIPELINE, ARENA_STATUS, ARENA_VAL_ACCURACY, ARENA_VAL_LOG_LOSS];
