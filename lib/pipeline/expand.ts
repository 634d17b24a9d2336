import type { z } from 'zod';
import type { RunConfig } from '../config/schema';
import { formatPath, lineOf, type YamlSource } from '../yaml-source';
import { instanceId, parseNeed } from './instance-id';
import { INSTANCE_LABEL, type PipelineFile, type ResolvedStage, type StageActivity } from './schema';

type FileStage = PipelineFile['stages'][number];
type JsonValue = z.core.util.JSONType;

/** One value of a foreach variable: the label in the instance id, and the value in its params. */
interface VariableValue {
  label: string;
  value: JsonValue;
}

/** One instance of a stage: its labels and its values, per variable. */
interface Instance {
  id: string;
  labels: Record<string, string>;
  values: Record<string, JsonValue>;
}

/**
 * The pipeline's stages, each fan-out stage as one stage per instance, in an order where each
 * comes after everything it needs; or every problem, line-precise: a foreach over an unset or empty
 * config value, labels that clash, a need that selects no instance.
 */
export function expandInstances(source: YamlSource, pipeline: PipelineFile, config: RunConfig): { stages: ResolvedStage[] } | { problems: string[] } {
  const at = (pathKeys: (string | number)[]) => `${source.file}:${lineOf(source, pathKeys)}: ${formatPath(pathKeys)}`;
  const problems: string[] = [];
  const instances = new Map<string, Instance[]>();
  pipeline.stages.forEach((stage, i) => {
    const perVariable: [string, VariableValue[]][] = [];
    for (const [variable, fanOut] of Object.entries(stage.foreach ?? {})) {
      const values = variableValues(fanOut, config, (key, message) => problems.push(`${at(['stages', i, 'foreach', variable, key])}: ${message}`));
      if (values) perVariable.push([variable, values]);
    }
    instances.set(stage.name, product(stage.name, perVariable));
  });
  if (problems.length > 0) return { problems };

  const stages: ResolvedStage[] = [];
  for (const [i, stage] of orderedStages(pipeline)) {
    for (const instance of instances.get(stage.name)!) {
      const needs: string[] = [];
      stage.needs.forEach((need, j) => {
        const selector = parseNeed(need)!;
        const candidates = instances.get(selector.stage)!;
        const chosen = candidates.filter((c) => Object.entries(selector.where).every(([variable, label]) => c.labels[variable] === (label ?? instance.labels[variable])));
        if (chosen.length === 0) {
          problems.push(`${at(['stages', i, 'needs', j])}: '${need}' selects no instance of stage '${selector.stage}' for ${instance.id} (its instances: ${candidates.map((c) => c.id).join(', ')})`);
        }
        for (const c of chosen) if (!needs.includes(c.id)) needs.push(c.id);
      });
      stages.push(resolveStage(pipeline, stage, instance, needs));
    }
  }
  return problems.length > 0 ? { problems } : { stages };
}

/** The values of one foreach variable, or undefined after reporting why there are none. */
function variableValues(
  fanOut: NonNullable<FileStage['foreach']>[string],
  config: RunConfig,
  report: (key: 'range' | 'in', message: string) => void,
): VariableValue[] | undefined {
  if ('range' in fanOut) {
    const count = typeof fanOut.range === 'number' ? fanOut.range : configValue(config, fanOut.range);
    if (typeof count !== 'number' || !Number.isInteger(count) || count < 1) {
      report('range', `config key ${String(fanOut.range)} is ${describe(count)}, expected a positive integer`);
      return undefined;
    }
    return Array.from({ length: count }, (_, k) => ({ label: String(k), value: k }));
  }
  const list = Array.isArray(fanOut.in) ? fanOut.in : configValue(config, fanOut.in);
  if (!Array.isArray(list) || list.length === 0) {
    report('in', `config key ${String(fanOut.in)} is ${describe(list)}, expected a non-empty list`);
    return undefined;
  }
  const values = list.map((value, k) => ({ label: labelOf(value as JsonValue, k), value: value as JsonValue }));
  const bad = values.find((v) => !INSTANCE_LABEL.test(v.label));
  if (bad) {
    report('in', `value ${JSON.stringify(bad.value)} cannot label an instance: a label is letters, digits, '_', '.' and '-' (give an object a name)`);
    return undefined;
  }
  const first = new Map<string, number>();
  for (const [k, v] of values.entries()) {
    if (first.has(v.label)) {
      report('in', `items ${first.get(v.label)} and ${k} share the label '${v.label}': instance ids must differ`);
      return undefined;
    }
    first.set(v.label, k);
  }
  return values;
}

/** A scalar labels itself; an object by its `name`, else by its index. */
function labelOf(value: JsonValue, index: number): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  if (value !== null && !Array.isArray(value) && typeof value['name'] === 'string') return value['name'];
  return String(index);
}

function configValue(config: RunConfig, keyPath: string): unknown {
  let value: unknown = config;
  for (const key of keyPath.split('.')) {
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, key)) return undefined;
    value = (value as Record<string, unknown>)[key];
  }
  return value;
}

function describe(value: unknown): string {
  if (value === undefined) return 'not set';
  if (Array.isArray(value) && value.length === 0) return 'an empty list';
  return JSON.stringify(value);
}

/** Every combination of the variables' values, the first variable slowest. */
function product(stage: string, perVariable: [string, VariableValue[]][]): Instance[] {
  let combos: { labels: Record<string, string>; values: Record<string, JsonValue> }[] = [{ labels: {}, values: {} }];
  for (const [variable, values] of perVariable) {
    combos = combos.flatMap((c) => values.map((v) => ({ labels: { ...c.labels, [variable]: v.label }, values: { ...c.values, [variable]: v.value } })));
  }
  return combos.map((c) => ({ id: instanceId(stage, c.labels), ...c }));
}

/** The stage names a stage needs, whatever instances its selectors pick. */
export function neededStages(stage: FileStage): string[] {
  return stage.needs.map((need) => parseNeed(need)!.stage);
}

/** The file's stages with their indices, each after every stage it needs. */
function orderedStages(pipeline: PipelineFile): [number, FileStage][] {
  const done = new Set<string>();
  const ordered: [number, FileStage][] = [];
  while (ordered.length < pipeline.stages.length) {
    pipeline.stages.forEach((stage, i) => {
      if (!done.has(stage.name) && neededStages(stage).every((n) => done.has(n))) {
        done.add(stage.name);
        ordered.push([i, stage]);
      }
    });
  }
  return ordered;
}

function resolveStage(pipeline: PipelineFile, stage: FileStage, instance: Instance, needs: string[]): ResolvedStage {
  const defaults = pipeline.defaults;
  return {
    name: instance.id,
    ...(stage.rounds ? { rounds: stage.rounds } : { activity: stage.activity as StageActivity }),
    needs,
    // An instance's values join its params, and so its cache key.
    params: { ...stage.params, ...instance.values },
    cache: stage.cache,
    retry: { ...defaults.retry, ...stage.retry },
    startToCloseTimeout: stage.start_to_close_timeout ?? defaults.start_to_close_timeout,
    heartbeatTimeout: stage.heartbeat_timeout ?? defaults.heartbeat_timeout,
    // A composite's steps are registered on the GPU workers' queue only.
    queue: stage.rounds ? 'gpu' : (stage.queue ?? defaults.queue),
  };
}
