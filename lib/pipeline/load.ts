import path from 'node:path';
import { describeIssues, lineOf, readYaml, YamlError, type YamlSource } from '../yaml-source';
import { pipelineFileSchema, STAGE_ACTIVITIES, type PipelineFile, type ResolvedPipeline, type ResolvedStage, type StageActivity } from './schema';

export const DEFAULT_PIPELINE_DIR = path.resolve(__dirname, '..', '..', 'pipelines');
const PIPELINE_NAME = /^[a-z][a-z0-9-]*$/;

/** Reads and validates `pipelines/<name>.yaml` before any work starts. */
export function loadPipeline(name: string, pipelineDir: string = DEFAULT_PIPELINE_DIR): ResolvedPipeline {
  if (!PIPELINE_NAME.test(name)) throw new YamlError('PipelineError', `no pipeline '${name}': names are lower-case letters, digits and '-'`);
  const source = readYaml(path.join(pipelineDir, `${name}.yaml`), 'PipelineError');
  const parsed = pipelineFileSchema.safeParse(source.value);
  if (!parsed.success) throw new YamlError('PipelineError', `invalid pipeline '${name}':\n${describeIssues(source, parsed.error.issues)}`);
  const problems = graphProblems(source, parsed.data);
  if (problems.length > 0) throw new YamlError('PipelineError', `invalid pipeline '${name}':\n${problems.join('\n')}`);
  return { name, description: parsed.data.description, stages: topologicalOrder(parsed.data).map((s) => resolveStage(parsed.data, s)) };
}

type FileStage = PipelineFile['stages'][number];

function graphProblems(source: YamlSource, pipeline: PipelineFile): string[] {
  const at = (pathKeys: (string | number)[]) => `${source.file}:${lineOf(source, pathKeys)}`;
  const problems: string[] = [];
  const seen = new Map<string, number>();
  pipeline.stages.forEach((stage, i) => {
    if (seen.has(stage.name)) problems.push(`${at(['stages', i, 'name'])}: stages[${i}].name: duplicate stage '${stage.name}' (first at stages[${seen.get(stage.name)}])`);
    else seen.set(stage.name, i);
    if (!(STAGE_ACTIVITIES as readonly string[]).includes(stage.activity)) {
      problems.push(`${at(['stages', i, 'activity'])}: stages[${i}].activity: unknown activity '${stage.activity}' (known: ${STAGE_ACTIVITIES.join(', ')})`);
    }
    stage.needs.forEach((need, j) => {
      if (!pipeline.stages.some((s) => s.name === need)) problems.push(`${at(['stages', i, 'needs', j])}: stages[${i}].needs[${j}]: unknown stage '${need}'`);
      if (need === stage.name) problems.push(`${at(['stages', i, 'needs', j])}: stages[${i}].needs[${j}]: stage '${need}' needs itself`);
    });
  });
  if (problems.length > 0) return problems;
  const cycle = findCycle(pipeline.stages);
  if (cycle) {
    const i = pipeline.stages.findIndex((s) => s.name === cycle[0]);
    problems.push(`${at(['stages', i, 'needs'])}: stages[${i}].needs: dependency cycle ${cycle.join(' -> ')}`);
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
    for (const need of byName.get(name)!.needs) {
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

function topologicalOrder(pipeline: PipelineFile): FileStage[] {
  const done = new Set<string>();
  const ordered: FileStage[] = [];
  while (ordered.length < pipeline.stages.length) {
    for (const stage of pipeline.stages) {
      if (!done.has(stage.name) && stage.needs.every((n) => done.has(n))) {
        done.add(stage.name);
        ordered.push(stage);
      }
    }
  }
  return ordered;
}

function resolveStage(pipeline: PipelineFile, stage: FileStage): ResolvedStage {
  const defaults = pipeline.defaults;
  return {
    name: stage.name,
    activity: stage.activity as StageActivity,
    needs: stage.needs,
    params: stage.params,
    cache: stage.cache,
    retry: { ...defaults.retry, ...stage.retry },
    startToCloseTimeout: stage.start_to_close_timeout ?? defaults.start_to_close_timeout,
    heartbeatTimeout: stage.heartbeat_timeout ?? defaults.heartbeat_timeout,
    queue: stage.queue ?? defaults.queue,
  };
}
