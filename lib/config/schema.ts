import { z } from 'zod';

/**
 * The run config: every knob of a run, each with its default. This schema is the single source
 * of truth; the `RunConfig` type is inferred from it and `arena config show` prints it resolved.
 */

const probability = z.number().gt(0).lt(1);

/** A trainer's name in a worker's registry (lib/trainer-registry.ts): a name, never a path or an argv. */
export const trainerNameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]*$/, 'expected a trainer name: lowercase letters, digits, _ and -');

const dataSourceSchema = z
  .strictObject({
    format: z.enum(['wsdm', 'lmsys']).describe('wsdm: parquet with a `winner` column; lmsys: Kaggle CSV, JSON-list texts, one-hot winner'),
    path: z.string().min(1).describe('file path, relative to the data dir'),
  })
  .describe('one input file');

export const dataSchema = z
  .strictObject({
    dir: z.string().default('data/raw').describe('where relative data paths start; env ARENA_DATA_DIR overrides it'),
    train: z
      .union([z.literal('auto'), z.array(dataSourceSchema).min(1)])
      .default('auto')
      .describe('training files; auto: the conventional names under dir if present, else a generated synthetic set'),
    test: z
      .union([z.literal('auto'), dataSourceSchema])
      .default('auto')
      .describe('the file to predict for submission; auto: test.parquet or lmsys/test.csv under dir, else synthetic'),
    synthetic_rows: z.int().positive().default(1200).describe('rows of the generated dataset when no real data is found'),
    turn_separator: z.string().default('\n\n').describe('joins the turns of a multi-turn conversation into one text'),
    max_text_chars: z
      .int()
      .positive()
      .default(200_000)
      .describe(
        'texts (prompt, response_a, response_b, turns joined) longer than this many characters are cut to it at ingest and counted as truncated_rows in ingest_report.json; bounds the memory of every later stage (a 51 MB text once took the features stage to 2.4 GB)',
      ),
    sample_size: z.int().positive().nullable().default(null).describe('keep at most this many rows (after dedup), null for all'),
    validation_size: probability.default(0.1).describe('fraction of rows held out for validation'),
    stratify_by_language: z.boolean().default(false).describe('split each language separately'),
  })
  .describe('inputs and sampling');

export const featuresSchema = z
  .strictObject({
    set: z.enum(['reference']).default('reference').describe("feature set: 'reference' is the 19 counts per text of the reference project"),
    similarity: z.boolean().default(true).describe('cosine similarity of prompt and each response over character n-grams'),
    sentiment: z.boolean().default(true).describe('lexicon sentiment polarity of each response'),
  })
  .describe('engineered features');

export const augmentSchema = z
  .strictObject({
    mode: z
      .enum(['none', 'append', 'alternate', 'per_gpu'])
      .default('append')
      .describe(
        "A/B swap: none, append (original + swapped), alternate (odd epochs swapped), per_gpu (the reference's DDP: every shard or DDP rank trains on every pair, odd ones on the swapped copies, so 2+ see each pair both ways every epoch at count × the rows; one process: originals only)",
      ),
  })
  .describe('A/B swap augmentation');

const loraSchema = z
  .strictObject({
    r: z.int().positive().default(16).describe('LoRA rank'),
    alpha: z.number().positive().default(32).describe('LoRA alpha'),
    dropout: z.number().min(0).lt(1).default(0.05).describe('LoRA dropout'),
    target_modules: z.array(z.string()).min(1).default(['q_proj', 'k_proj', 'v_proj']).describe('modules LoRA adapts'),
  })
  .describe('LoRA adapter (GPU trainer)');

export const modelSchema = z
  .strictObject({
    kind: z.enum(['cpu_mlp', 'gemma2_qlora']).default('cpu_mlp').describe('cpu_mlp: built-in TypeScript model; gemma2_qlora: the GPU trainer'),
    text_hash_dim: z.int().positive().default(2048).describe('hashed n-gram buckets per text (cpu_mlp text branch)'),
    text_dim: z.int().positive().default(64).describe('width of the text branch, standing in for the LLM embedding'),
    feature_dim: z.int().positive().default(128).describe('width of the feature branch Linear(features→feature_dim)'),
    hidden_dim: z.int().positive().default(64).describe('hidden width of the MLP head'),
    head_dropout: z.number().min(0).lt(1).default(0.2).describe('dropout in the head'),
    basemodel_path: z.string().nullable().default(null).describe('local folder with backbone weights and tokenizer (GPU trainer)'),
    quantization: z.enum(['none', '4bit']).default('none').describe('backbone quantisation (GPU trainer)'),
    max_length: z.int().positive().default(512).describe('token budget of prompt + both responses'),
    truncation: z
      .enum(['right', 'spread', 'head_tail'])
      .default('head_tail')
      .describe('how long inputs are cut: right (the end of the whole input, EOS kept; the reference), spread (a third per text), head_tail (each long text keeps its start and end)'),
    tokenization: z
      .enum(['whole_string', 'pieces'])
      .default('whole_string')
      .describe(
        'GPU trainer: whole_string (the reference) encodes the filled-in template as one string with BOS and EOS, after any cut of the texts; pieces encodes template and texts separately and joins the ids, BOS only (the older recipe)',
      ),
    pooling: z
      .enum(['eos', 'last_token', 'mean'])
      .default('eos')
      .describe(
        "GPU trainer: the vector fed to the head. eos: the last real position, which whole_string tokenization makes the EOS (the reference's described version); last_token: the last real position whatever it holds; mean: masked mean of all real positions (the reference's final commit)",
      ),
    inference_max_length: z
      .int()
      .positive()
      .nullable()
      .default(null)
      .describe('token budget at inference (export, predict); null: max_length. The reference trained at 2048 and predicted at 1950'),
    feature_init: z
      .enum(['xavier_zero', 'default'])
      .default('xavier_zero')
      .describe("GPU trainer: the feature branch Linear's initial weights: xavier_zero (Xavier-uniform weights, zero bias; the reference) or default (torch's Linear init)"),
    feature_scaling: z
      .enum(['standardize', 'none'])
      .default('standardize')
      .describe('GPU trainer: standardize: features are centred and scaled by the training split before the feature branch; none: raw values (the reference)'),
    lora: loraSchema.default(loraSchema.parse({})),
  })
  .describe('model shape');

const learningRatesSchema = z
  .strictObject({
    backbone: z.number().positive().default(1e-3).describe('text branch / LLM backbone'),
    features: z.number().positive().default(5e-4).describe('engineered-feature branch'),
    head: z.number().positive().default(5e-4).describe('MLP head'),
  })
  .describe('AdamW learning rate per parameter group');

const schedulerSchema = z
  .strictObject({
    kind: z.enum(['cosine']).default('cosine').describe('linear warm-up, then cosine decay (transformers get_cosine_schedule_with_warmup)'),
    num_cycles: z
      .number()
      .positive()
      .default(0.5)
      .describe('cosine periods over the decay: 0.5 decays to 0; the reference used 0.27, which ends at 0.5*(1+cos(2*pi*0.27)) = 0.437 of the peak rate'),
  })
  .describe('learning-rate schedule, the same in both trainers');

export const trainerSchema = z
  .strictObject({
    engine: trainerNameSchema
      .default('cpu')
      .describe("which trainer the worker runs, by name (lib/trainer-registry.ts): cpu, gpu, or one the worker's operator registered; never an argv"),
    epochs: z.int().positive().default(3).describe('passes over the training split'),
    batch_size: z.int().positive().default(32).describe('rows per optimizer micro-batch'),
    grad_accumulation: z.int().positive().default(1).describe('micro-batches per optimizer step'),
    lr: learningRatesSchema.default(learningRatesSchema.parse({})),
    weight_decay: z.number().min(0).default(0.01).describe('AdamW weight decay'),
    warmup_ratio: z.number().min(0).lt(1).default(0.1).describe('fraction of steps of linear warm-up before the cosine decay'),
    scheduler: schedulerSchema.default(schedulerSchema.parse({})),
    checkpoint_every_steps: z.int().positive().default(20).describe('write a checkpoint every N optimizer steps'),
    keep_checkpoints: z
      .int()
      .positive()
      .default(2)
      .describe(
        'complete checkpoints each shard keeps while it trains; older ones are deleted, locally and in the remote store, once a newer one is published (round, merge and export checkpoints are stage outputs and are kept)',
      ),
    early_stopping_patience: z.int().min(0).default(2).describe('evaluations of the merged model (every round; every epoch with one shard) without a gain in trainer.select_metric before stopping; 0 disables'),
    gpus: z.int().positive().default(1).describe('parallel training shards, one per device; with parallel: ddp, the processes of the one DDP launch'),
    round_epochs: z
      .int()
      .positive()
      .nullable()
      .optional()
      .describe('epochs between shard merges (the checkpoint handoff); 1 when neither this nor round_steps is set; null unsets an inherited value'),
    parallel: z
      .enum(['shards', 'ddp'])
      .default('shards')
      .describe(
        "shards: `gpus` independent train activities (single-GPU pods that come and go), merged every round; ddp: one train activity on one pod running the trainer under torchrun over `gpus` processes, gradients all-reduced every step (no merge, no rounds; the trainer must support it: gpu)",
      ),
    step_delay_ms: z.int().min(0).default(0).describe('sleep after each step; only for tests that must catch a run mid-training'),
    round_steps: z
      .int()
      .positive()
      .optional()
      .describe('optimizer steps between shard merges (local SGD): each shard trains K steps a round from where it stopped; excludes round_epochs'),
    select_metric: z
      .enum(['valid_loss', 'valid_accuracy'])
      .default('valid_loss')
      .describe("the merged model's validation metric, measured after every round: the best round's checkpoint is exported, and early stopping watches it"),
    round_lr_scale: z
      .array(z.number().positive())
      .default([])
      .describe('learning-rate multiplier per round (round k uses entry k, 1 past the end), on top of the schedule: e.g. [1, 1, 0.3] for a gentler last round'),
  })
  // Both set would leave it ambiguous which one the rounds follow.
  .refine((t) => t.round_steps === undefined || t.round_epochs == null, {
    path: ['round_steps'],
    message: 'excludes trainer.round_epochs; set one of them (round_epochs: null unsets an inherited value)',
  })
  // DDP synchronises every step and has no rounds: a round length would silently do nothing.
  .refine((t) => t.round_steps === undefined || t.parallel !== 'ddp', {
    path: ['round_steps'],
    message: 'has no effect with trainer.parallel: ddp (it all-reduces every step); unset it',
  })
  .describe('trainer settings');

export const evaluateSchema = z
  .strictObject({
    tta: z.boolean().default(true).describe('also report metrics with swap test-time augmentation'),
    batch_size: z.int().positive().default(512).describe('rows per ONNX inference batch'),
    engine: z
      .enum(['onnx', 'trainer'])
      .default('onnx')
      .describe("onnx: the exported model in onnxruntime-node; trainer: the trainer's own batched predict, where the ONNX model does not fit"),
  })
  .describe('evaluation');

export const submitSchema = z
  .strictObject({
    tta: z.boolean().default(true).describe('average p(A|A,B) and 1-p(A|B,A)'),
    batch_size: z.int().positive().default(512).describe('rows per ONNX inference batch'),
    engine: z
      .enum(['onnx', 'trainer'])
      .default('onnx')
      .describe("onnx: the exported model in onnxruntime-node; trainer: the trainer's own batched predict, where the ONNX model does not fit"),
  })
  .describe('submission');

const teacherSchema = z
  .strictObject({
    name: z.string().regex(/^[a-z][a-z0-9_-]*$/, 'expected a lower-case name of letters, digits, _ and -').describe('names the teacher in reports and errors'),
    file: z
      .string()
      .min(1)
      .optional()
      .describe(
        "an imported teacher: a CSV or parquet file under the data dir with columns id, p_model_a (p that response_a wins) and optionally p_model_a_swapped (the teacher's p for the first response shown with the two responses swapped); absent: the pipeline's own k-fold teachers, by their out-of-fold predictions",
      ),
    weight: z.number().positive().default(1).describe("the teacher's weight in the soft label, a weighted mean of the teachers' probabilities"),
  })
  .describe('one teacher of the soft labels');

export const distillSchema = z
  .strictObject({
    folds: z.int().min(2).default(3).describe('k of the k-fold teachers of the distill pipeline: teacher[fold] for fold 0..k-1'),
    alpha: z
      .number()
      .min(0)
      .max(1)
      .default(0.5)
      .describe("loss = alpha*CE(hard label) + (1-alpha)*T^2*KL(teacher_T || student_T), on rows with a soft label; written into the soft-labelled train file's metadata, where the student's trainer reads it"),
    temperature: z.number().positive().default(2).describe('T of the soft-label loss: both logits are divided by it'),
    teachers: z
      .array(teacherSchema)
      .min(1)
      .default([{ name: 'oof', weight: 1 }])
      .describe("whose probabilities make the student's soft labels; default: the pipeline's own k-fold teachers"),
    swap_tolerance: z
      .number()
      .gt(0)
      .max(1)
      .default(0.15)
      .describe('an imported teacher that gives both orders must have mean |p_model_a - (1 - p_model_a_swapped)| at most this'),
  })
  // Two teachers by one name could not be told apart in reports and errors; only one can be the pipeline's own.
  .refine((d) => new Set(d.teachers.map((t) => t.name)).size === d.teachers.length, { path: ['teachers'], message: 'teacher names must differ' })
  .refine((d) => d.teachers.filter((t) => t.file === undefined).length <= 1, { path: ['teachers'], message: "at most one teacher can be the pipeline's own (no file)" })
  .describe('k-fold teachers and soft-label distillation (pipelines/distill-pipeline.yaml)');

const kaggleSlugSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*\/[A-Za-z0-9][A-Za-z0-9_.-]*$/, 'expected owner/slug');

export const kaggleSchema = z
  .strictObject({
    competition: z.string().min(1).default('wsdm-cup-multilingual-chatbot-arena').describe('the competition whose data the notebook reads: /kaggle/input/<competition>/test.parquet'),
    basemodel: z
      .string()
      .regex(/^[A-Za-z0-9][A-Za-z0-9_.-]*(\/[A-Za-z0-9][A-Za-z0-9_.-]*){1,4}$/, 'expected a Kaggle model handle owner/model/framework/variation/version or a dataset owner/slug')
      .default('google/gemma-2/transformers/gemma-2-9b-it/2')
      .describe('the Kaggle model (owner/model/framework/variation/version) or dataset (owner/slug) holding model.basemodel_path\'s weights; the package never copies them. Default: Gemma-2-9B-it, the backbone the reference project fine-tuned'),
    dataset: kaggleSlugSchema.nullable().default(null).describe('owner/slug of the Kaggle dataset the package is uploaded as (`arena package --kaggle-dataset` overrides it)'),
    test_rows: z.int().positive().default(25000).describe("rows of the competition's hidden test set, for the run-time estimate"),
    time_limit_hours: z.number().positive().default(12).describe("the competition's notebook run-time limit; `arena package` warns when the estimate passes 80% of it"),
    t4_speed_factor: z
      .number()
      .positive()
      .default(0.15)
      .describe("throughput of one T4 relative to the device that ran the run's evaluation; 0.15 is an H100/A100-class GPU's (T4: 65 fp16 TFLOPs and 320 GB/s, about 1/6 of an A100's bandwidth); set 1 for a T4, about 30 for a CPU-only evaluation"),
    devices: z.int().positive().default(2).describe('GPUs of the Kaggle notebook (2 for 2xT4), one scoring process each'),
  })
  .describe('packaging a run as an offline Kaggle inference notebook (`arena package`)');

export const runConfigSchema = z
  .strictObject({
    name: z.string().min(1).describe('config name; set from the file name'),
    description: z.string().default('').describe('what this config is for'),
    extends: z.string().optional().describe('name of a config whose values this one overrides'),
    seed: z.int().default(42).describe('seed of every random choice in the run'),
    data: dataSchema.default(dataSchema.parse({})),
    features: featuresSchema.default(featuresSchema.parse({})),
    augment: augmentSchema.default(augmentSchema.parse({})),
    model: modelSchema.default(modelSchema.parse({})),
    trainer: trainerSchema.default(trainerSchema.parse({})),
    evaluate: evaluateSchema.default(evaluateSchema.parse({})),
    submit: submitSchema.default(submitSchema.parse({})),
    kaggle: kaggleSchema.default(kaggleSchema.parse({})),
    distill: distillSchema.default(distillSchema.parse({})),
  })
  .describe('a named run config');

export type RunConfig = z.infer<typeof runConfigSchema>;

/** The sections a trainer process reads: what the train stages declare, and all a trainer spec's `config` holds. */
// Not distill: its alpha and temperature reach a student's trainer inside its soft-labelled train
// file (activities/soft-labels), so that a change of them retrains the student, not the teachers.
export const TRAINER_SECTIONS = ['seed', 'augment', 'model', 'trainer'] as const;
// Other sections are dropped, not refused: a hand-written spec may hold a whole run config.
export const trainerConfigSchema = runConfigSchema.pick({ seed: true, augment: true, model: true, trainer: true }).strip();
export type TrainerConfig = z.infer<typeof trainerConfigSchema>;
export type DataConfig = RunConfig['data'];
export type DataSource = z.infer<typeof dataSourceSchema>;
export type ConfigSection = Exclude<keyof RunConfig, 'name' | 'description' | 'extends'>;
