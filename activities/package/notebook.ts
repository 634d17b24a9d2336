import { isModelHandle, kaggleInputPath } from './kaggle-inputs';

export interface NotebookOptions {
  /** owner/slug of the package's dataset. */
  dataset: string;
  /** Kaggle model or dataset handle of the backbone. */
  basemodel: string;
  competition: string;
  /** The run it packages, for the notebook's title cell. */
  runId: string;
  estimate: string;
}

const INPUT_ROOT = '/kaggle/input';

/** The path below /kaggle/input where Kaggle mounts a handle. */
const underInput = (handle: string) => kaggleInputPath(handle).slice(INPUT_ROOT.length + 1);

const markdown = (text: string) => ({ cell_type: 'markdown', metadata: {}, source: text.split(/(?<=\n)/) });
const codeCell = (text: string) => ({ cell_type: 'code', execution_count: null, metadata: {}, outputs: [], source: text.split(/(?<=\n)/) });

/**
 * The inference notebook: internet off, so it only reads the attached inputs. The input and working
 * folders may be moved with ARENA_KAGGLE_INPUT / ARENA_KAGGLE_WORKING, which is how the project's
 * test runs it headless against a local copy of the same layout.
 */
export function inferenceNotebook(o: NotebookOptions): object {
  const cells = [
    markdown(`# arena-pipeline inference: run \`${o.runId}\`\n\nWritten by \`arena package\`. Predicts \`test.parquet\` of the competition \`${o.competition}\` with the packaged model and writes \`submission.csv\`.\n\n${o.estimate}\n`),
    codeCell(
      [
        'import json, os, subprocess, sys',
        `INPUT = os.environ.get("ARENA_KAGGLE_INPUT", ${JSON.stringify(INPUT_ROOT)})`,
        'WORKING = os.environ.get("ARENA_KAGGLE_WORKING", "/kaggle/working")',
        `PACKAGE = os.path.join(INPUT, ${JSON.stringify(underInput(o.dataset))})`,
        `BASEMODEL = os.path.join(INPUT, ${JSON.stringify(underInput(o.basemodel))})`,
        `TEST = os.path.join(INPUT, ${JSON.stringify(o.competition)}, "test.parquet")`,
        '',
      ].join('\n'),
    ),
    markdown('Wheels or sources shipped in the package\'s `wheels/` (packages missing from Kaggle\'s image, such as pycld2) are installed offline, a source with the image\'s own compiler and setuptools; the rest come from the image.\n'),
    codeCell(
      [
        'wheels = os.path.join(PACKAGE, "wheels")',
        'if os.path.isdir(wheels):',
        '    shipped = sorted(os.path.join(wheels, name) for name in os.listdir(wheels))',
        '    subprocess.run([sys.executable, "-m", "pip", "install", "--no-index", "--no-deps", "--no-build-isolation", *shipped], check=True)',
        '',
      ].join('\n'),
    ),
    codeCell(
      [
        '# /kaggle/input is read-only: no bytecode next to the package\'s modules.',
        'sys.dont_write_bytecode = True',
        'sys.path.insert(0, PACKAGE)',
        'from arena_infer.predict import predict',
        '',
        'summary = predict(PACKAGE, BASEMODEL, TEST, os.path.join(WORKING, "submission.csv"), os.path.join(WORKING, "arena-infer-work"))',
        'print(json.dumps(summary))',
        '',
      ].join('\n'),
    ),
  ];
  return {
    cells,
    metadata: {
      kernelspec: { display_name: 'Python 3', language: 'python', name: 'python3' },
      language_info: { name: 'python' },
    },
    nbformat: 4,
    nbformat_minor: 5,
  };
}

/** kernel-metadata.json for `kaggle kernels push`: internet off, a GPU, the competition and both datasets or models attached. */
export function kernelMetadata(o: NotebookOptions, codeFile: string): object {
  const [owner, slug] = o.dataset.split('/');
  return {
    id: `${owner}/${slug}-inference`,
    title: `${slug} inference`,
    code_file: codeFile,
    language: 'python',
    kernel_type: 'notebook',
    is_private: true,
    enable_gpu: true,
    enable_internet: false,
    competition_sources: [o.competition],
    dataset_sources: [o.dataset, ...(isModelHandle(o.basemodel) ? [] : [o.basemodel])],
    model_sources: isModelHandle(o.basemodel) ? [o.basemodel] : [],
    kernel_sources: [],
  };
}

/** dataset-metadata.json for `kaggle datasets create`. */
export function datasetMetadata(dataset: string, runId: string): object {
  const slug = dataset.split('/')[1]!;
  return { title: slug, id: dataset, licenses: [{ name: 'other' }], subtitle: `arena-pipeline package of run ${runId}`.slice(0, 80) };
}
