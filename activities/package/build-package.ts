import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RunConfig } from '../../lib/config/schema';
import { UserInputError } from '../../lib/errors';
import { readFeatureColumns } from '../../lib/feature-columns';
import { GEMMA2_KIND } from '../../lib/inference/model-manifest';
import { listFiles } from '../../lib/store/hash';
import type { TrainerEntry } from '../../lib/trainer-registry';
import { writeFeaturePlan } from './feature-plan';
import { checkGlueListed, GLUE_FILES, NOTEBOOK_REQUIREMENTS } from './glue-files';
import { PLACEHOLDER_DATASET } from './kaggle-inputs';
import { hashFiles, PACKAGE_FORMAT, type PackageManifest } from './manifest';
import { datasetMetadata, inferenceNotebook, kernelMetadata } from './notebook';
import { describeEstimate, estimateRuntime, type EvaluationThroughput, type RuntimeEstimate } from './runtime-estimate';

export type PackageConfig = Pick<RunConfig, 'seed' | 'augment' | 'model' | 'trainer' | 'features' | 'data' | 'submit' | 'kaggle'>;

export interface PackageOptions {
  runId: string;
  /** The train stage's output: model.json, checkpoint/ (weights.safetensors, checkpoint.json), tokenizer/. */
  modelDir: string;
  /** The features stage's feature_columns.json. */
  featureColumnsFile: string;
  config: PackageConfig;
  /** The run's evaluation, for the run-time estimate; null when it recorded no timing. */
  throughput: EvaluationThroughput | null;
  /** The trainer whose model code the package vendors (its registry entry's folders). */
  trainer: TrainerEntry;
  repoRoot: string;
  /** Gets dataset/ (the Kaggle dataset) and notebook/ (the kernel); must not exist or be empty. */
  outDir: string;
}

export interface PackageSummary {
  /** Relative to `outDir`. */
  dataset_dir: string;
  notebook_dir: string;
  dataset: string;
  kernel: string;
  bytes: number;
  files: number;
  estimate: RuntimeEstimate | null;
}

export const DATASET_DIR = 'dataset';
export const NOTEBOOK_DIR = 'notebook';
export const NOTEBOOK_FILE = 'inference.ipynb';

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * Writes everything the offline notebook needs and nothing training needs: the trained weights
 * (LoRA, feature branch, head, feature scaling) without optimizer or RNG state, the tokenizer, the
 * feature columns and the feature SQL, the trainer's model code and the arena_infer glue, each
 * copied from its source now, plus the manifest of hashes the notebook checks before it predicts.
 */
export async function buildPackage(o: PackageOptions): Promise<PackageSummary> {
  const model = JSON.parse(readFileSync(path.join(o.modelDir, 'model.json'), 'utf8')) as { kind?: string; step?: number };
  if (model.kind !== GEMMA2_KIND) {
    throw new UserInputError(`${path.join(o.modelDir, 'model.json')}: model kind '${model.kind}' has no Kaggle inference engine; \`arena package\` ships ${GEMMA2_KIND} runs (trainer.engine: gpu)`);
  }
  const checkpoint = path.join(o.modelDir, 'checkpoint');
  const meta = JSON.parse(readFileSync(path.join(checkpoint, 'checkpoint.json'), 'utf8')) as { shape: { feature_columns: string[] } };
  const columns = readFeatureColumns(o.featureColumnsFile).map((c) => c.name);
  if (JSON.stringify(columns) !== JSON.stringify(meta.shape.feature_columns)) {
    throw new UserInputError(`${o.featureColumnsFile}: its feature columns differ from those the model in ${checkpoint} was trained on`);
  }
  checkGlueListed();
  const dataset = o.config.kaggle.dataset ?? PLACEHOLDER_DATASET;
  const datasetDir = path.join(o.outDir, DATASET_DIR);
  const notebookDir = path.join(o.outDir, NOTEBOOK_DIR);
  rmSync(datasetDir, { recursive: true, force: true });
  rmSync(notebookDir, { recursive: true, force: true });

  const modelOut = path.join(datasetDir, 'model');
  mkdirSync(modelOut, { recursive: true });
  cpSync(path.join(checkpoint, 'weights.safetensors'), path.join(modelOut, 'weights.safetensors'));
  writeFileSync(path.join(modelOut, 'shape.json'), json(meta.shape));
  cpSync(o.featureColumnsFile, path.join(modelOut, 'feature_columns.json'));
  cpSync(path.join(o.modelDir, 'tokenizer'), path.join(modelOut, 'tokenizer'), { recursive: true });
  // The trainer's sections: its own spec check reads them; the backbone's path is the notebook's to set.
  const { seed, augment, trainer } = o.config;
  writeFileSync(path.join(modelOut, 'settings.json'), json({ seed, augment, model: { ...o.config.model, basemodel_path: '(set by arena_infer)' }, trainer }));

  writeFeaturePlan(path.join(datasetDir, 'features'), o.config.features, o.config.data.max_text_chars);
  vendorTrainer(o.trainer, o.repoRoot, datasetDir);
  mkdirSync(path.join(datasetDir, 'arena_infer'));
  for (const file of GLUE_FILES) cpSync(file, path.join(datasetDir, 'arena_infer', path.basename(file)));
  cpSync(NOTEBOOK_REQUIREMENTS, path.join(datasetDir, 'requirements.txt'));

  const estimate = o.throughput ? estimateRuntime(o.throughput, o.config.kaggle) : null;
  const estimateText = estimate ? describeEstimate(estimate) : 'no run-time estimate: the run\'s evaluation recorded no timing';
  const manifest: PackageManifest = {
    format: PACKAGE_FORMAT,
    run_id: o.runId,
    model: { kind: model.kind, step: model.step ?? 0, basemodel: o.config.kaggle.basemodel, feature_columns: columns.length },
    inference: { batch_size: o.config.submit.batch_size, tta: o.config.submit.tta },
    estimate,
    files: await hashFiles(datasetDir),
  };
  writeFileSync(path.join(datasetDir, 'manifest.json'), json(manifest));
  writeFileSync(path.join(datasetDir, 'dataset-metadata.json'), json(datasetMetadata(dataset, o.runId)));

  const notebook = { dataset, basemodel: o.config.kaggle.basemodel, competition: o.config.kaggle.competition, runId: o.runId, estimate: estimateText };
  mkdirSync(notebookDir, { recursive: true });
  writeFileSync(path.join(notebookDir, NOTEBOOK_FILE), json(inferenceNotebook(notebook)));
  const kernel = kernelMetadata(notebook, NOTEBOOK_FILE) as { id: string };
  writeFileSync(path.join(notebookDir, 'kernel-metadata.json'), json(kernel));

  const files = listFiles(datasetDir);
  const bytes = files.reduce((sum, f) => sum + statSync(path.join(datasetDir, f)).size, 0);
  return { dataset_dir: DATASET_DIR, notebook_dir: NOTEBOOK_DIR, dataset, kernel: kernel.id, bytes, files: files.length, estimate };
}

/** The trainer's code folders (its registry entry's `code`), as they are now, minus bytecode. */
function vendorTrainer(entry: TrainerEntry, repoRoot: string, datasetDir: string): void {
  for (const item of entry.code) {
    const source = path.resolve(repoRoot, item);
    // Files beside the folders (a launcher, requirements) are the trainer's, not the model's.
    if (!existsSync(source) || !statSync(source).isDirectory()) continue;
    for (const rel of listFiles(source)) {
      if (rel.includes('__pycache__/') || rel.endsWith('.pyc')) continue;
      const target = path.join(datasetDir, path.basename(source), rel);
      mkdirSync(path.dirname(target), { recursive: true });
      cpSync(path.join(source, rel), target);
    }
  }
}
