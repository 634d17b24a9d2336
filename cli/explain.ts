import { stringify } from 'yaml';
import { stageDefinitions } from '../activities/stage-definitions';
import { keyContents, keyOf, type StageRequest } from '../activities/stage-runner';
import { loadTrainerRegistry } from '../lib/trainer-registry';
import { DevicePool } from '../activities/train/device-pool';
import type { RunConfig } from '../lib/config/schema';
import type { ResolvedPipeline } from '../lib/pipeline/schema';
import type { StageResult } from '../lib/stage';
import { outputOfStage } from './run-results';
import { configSlice, stageCode } from '../lib/stage-contract/stage-code';

const indent = (text: string, by = '    ') => text.trimEnd().split('\n').map((line) => `${by}${line}`).join('\n');

/**
 * What enters the cache key of a pipeline stage (of each sub-step for the train stage): the files
 * of its code closure with their hashes, package versions, config slice, params, external inputs,
 * and, given a run's stage results, its inputs' hashes and the key they give.
 */
export async function explainStage(pipeline: ResolvedPipeline, config: RunConfig, stageName: string, repoRoot: string, run?: Map<string, StageResult>): Promise<string> {
  const stage = pipeline.stages.find((s) => s.name === stageName);
  if (!stage) throw new Error(`no stage '${stageName}' in pipeline ${pipeline.name}; its stages: ${pipeline.stages.map((s) => s.name).join(', ')}`);
  const defs = stageDefinitions(new DevicePool(1));
  // This machine's registry: the built-in trainers plus ARENA_TRAINERS, as a worker here would see them.
  const trainers = loadTrainerRegistry();
  const out = [`stage ${stage.name} of ${pipeline.name}, config ${config.name}`];
  // A composite (rounds) runs several activities: each has its own key.
  const composite = stage.rounds !== undefined;
  for (const activity of stage.rounds ? Object.values(stage.rounds) : [stage.activity!]) {
    const def = defs[activity];
    const code = stageCode(def, config, repoRoot, trainers);
    out.push(
      `\n${activity}${composite ? ` (sub-step of ${stage.name})` : ''}`,
      `  code version ${code.version.slice(0, 16)}: ${Object.keys(code.files).length} files, ${Object.keys(code.packages).length} packages`,
      ...Object.entries(code.files).map(([file, hash]) => `    ${hash.slice(0, 12)}  ${file}`),
      '  packages (package-lock.json):',
      ...(Object.keys(code.packages).length === 0 ? ['    none'] : Object.entries(code.packages).map(([name, version]) => `    ${name} ${version}`)),
      `  config slice (${def.config.join(', ')}):`,
      indent(stringify(configSlice(def, config))),
      `  params: ${JSON.stringify(stage.params)}${composite ? ' plus each sub-step\'s shard and round' : ''}`,
      `  outputs (hashed and handed on): ${def.outputs.join(', ') || 'none'}; logs/ is kept beside them, outside every key`,
    );
    const external = def.externalInputs?.(configSlice(def, config), repoRoot) ?? [];
    if (external.length > 0) out.push('  external inputs (content-hashed):', ...external.map((f) => `    ${f}`));
    const result = run?.get(stage.name);
    if (run && result && !composite) {
      const upstream = Object.fromEntries(stage.needs.flatMap((need) => {
        const output = outputOfStage(run, need);
        return output ? [[need, output]] : [];
      }));
      const request: StageRequest = { stageId: stage.name, params: stage.params, config, upstream, cache: true };
      const contents = await keyContents(def, request, { repoRoot, trainers });
      out.push('  inputs (from this run\'s upstream entries):');
      for (const [need, files] of Object.entries(contents.upstream)) out.push(`    ${need}:`, ...Object.entries(files).map(([file, hash]) => `      ${hash.slice(0, 12)}  ${file}`));
      const key = keyOf(contents);
      out.push(`  key now: ${key}; the run's entry: ${result.cacheKey}${key === result.cacheKey ? ' (same)' : ' (differs: the code, config or an input changed since)'}`);
    } else if (run && composite) {
      out.push('  keys of this run\'s sub-steps:', ...[...run.values()].filter((r) => r.stage.startsWith(`${stage.name}/`)).map((r) => `    ${r.stage}: ${r.cacheKey}`));
    } else {
      out.push(`  inputs: the content hashes of the outputs of ${stage.needs.join(', ') || 'no upstream stage'} (give --run ID to see a run's)`);
    }
  }
  return out.join('\n');
}
