import path from 'node:path';
import type { RunConfig } from '../config/schema';
import { describeIssues, formatPath, lineOf, readYaml, YamlError, type YamlSource } from '../yaml-source';
import { expandInstances, neededStages } from './expand';
import { parseNeed } from './instance-id';
import { PIPELINE_NAME, pipelineFileSchema, STAGE_ACTIVITIES, type PipelineFile, type ResolvedPipeline } from './schema';

export const DEFAULT_PIPELINE_DIR = path.resolve(__dirname, '..', '..', 'pipelines');

/**
 * Reads and validates `pipelines/<name>.yaml` before any work starts, and expands its fan-out
 * stages into instances for `config` (a `foreach` may range over a config value).
 */
export function loadPipeline(name: string, config: RunConfig, pipelineDir: string = DEFAULT_PIPELINE_DIR): ResolvedPipeline {
  if (!PIPELINE_NAME.test(name)) throw new YamlError('PipelineError', `no pipeline '${name}': names are lower-case letters, digits and '-'`);
  const source = readYaml(path.join(pipelineDir, `${name}.yaml`), 'PipelineError');
  const invalid = (problems: string) => new YamlError('PipelineError', `invalid pipeline '${name}':\n${problems}`);
  const parsed = pipelineFileSchema.safeParse(source.value);
  if (!parsed.success) throw invalid(describeIssues(source, parsed.error.issues));
  const problems = graphProblems(source, parsed.data);
  if (problems.length > 0) throw invalid(problems.join('\n'));
  const expanded = expandInstances(source, parsed.data, config);
  if ('problems' in expanded) throw invalid(expanded.problems.join('\n'));
  return { name, description: parsed.data.description, stages: expanded.stages };
}

type FileStage = PipelineFile['stages'][number];

/** What is wrong with the stages and their needs whatever the config: unknown names, cycles. */
function graphProblems(source: YamlSource, pipeline: PipelineFile): string[] {
  const at = (pathKeys: (string | number)[]) => `${source.file}:${lineOf(source, pathKeys)}: ${formatPath(pathKeys)}`;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  const byName = new Map(pipeline.stages.map((s) => [s.name, s]));
  pipeline.stages.forEach((stage, i) => {
    if (seen.has(stage.name)) problems.push(`${at(['stages', i, 'name'])}: duplicate stage '${stage.name}' (first at stages[${seen.get(stage.name)}])`);
    else seen.set(stage.name, i);
    if ((stage.activity === undefined) === (stage.rounds === undefined)) {
      problems.push(`${at(['stages', i])}: set exactly one of activity (one activity) and rounds (the train composite)`);
    } else if (stage.rounds && stage.queue === 'main') {
      problems.push(`${at(['stages', i, 'queue'])}: a rounds composite runs on the gpu queue, where its steps are registered`);
    } else if (stage.activity === 'train') {
      problems.push(`${at(['stages', i, 'activity'])}: 'train' is a composite: declare it as rounds: { shard: trainShard, merge: mergeShards, export: exportModel }`);
    } else if (stage.activity !== undefined && !(STAGE_ACTIVITIES as readonly string[]).includes(stage.activity)) {
      problems.push(`${at(['stages', i, 'activity'])}: unknown activity '${stage.activity}' (known: ${STAGE_ACTIVITIES.join(', ')})`);
    }
    const variables = Object.keys(stage.foreach ?? {});
    for (const variable of variables) {
      if (variable in stage.params) problems.push(`${at(['stages', i, 'foreach', variable])}: variable '${variable}' would hide params.${variable}`);
    }
    stage.needs.forEach((need, j) => {
      const where = at(['stages', i, 'needs', j]);
      const selector = parseNeed(need);
      if (!selector) return problems.push(`${where}: '${need}' is not a stage, 'stage[variable]' or 'stage[variable=label]'`);
      const needed = byName.get(selector.stage);
      if (!needed) return problems.push(`${where}: unknown stage '${selector.stage}'`);
      if (needed === stage) return problems.push(`${where}: stage '${stage.name}' needs itself`);
      for (const [variable, label] of Object.entries(selector.where)) {
        if (!(variable in (needed.foreach ?? {}))) problems.push(`${where}: stage '${needed.name}' has no foreach variable '${variable}'`);
        else if (label === null && !variables.includes(variable)) {
          problems.push(`${where}: '${need}' takes this stage's own '${variable}', but stage '${stage.name}' has no foreach variable '${variable}'`);
        }
      }
      return undefined;
    });
  });
  if (problems.length > 0) return problems;
  const cycle = findCycle(pipeline.stages);
  if (cycle) {
    const i = pipeline.stages.findIndex((s) => s.name === cycle[0]);
    problems.push(`${at(['stages', i, 'needs'])}: dependency cycle ${cycle.join(' -> ')}`);
  }
  return problems;
}

function findCycle(stages: FileStage[]): string[] | undefined {
  const byName = new Map(stages.map((s) => [s.name, s]));
  const state = new Map<string, 'visiting' | 'done'>();
  const trail: string[] = [];
  const visit = (name: string): string[] | undefined => {
    if (state.get(name) === 'done') return undefined;
    if (state.get(name) === 'visiting') return [...trail.slice(trail.indexOf(name)), name];
    state.set(name, 'visiting');
    trail.push(name);
    for (const need of neededStages(byName.get(name)!)) {
      const cycle = visit(need);
      if (cycle) return cycle;
    }
    trail.pop();
    state.set(name, 'done');
    return undefined;
  };
  for (const stage of stages) {
    const cycle = visit(stage.name);
    if (cycle) return cycle.reverse();
  }
  return undefined;
}
