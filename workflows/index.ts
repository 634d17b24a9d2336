import type { PipelineInput, PipelineResult } from '../lib/run-types';
import { runPipeline } from './run-pipeline';

export { progressQuery } from './run-pipeline';
/** The one workflow type that is not a pipeline: a grid of child runs of one (`arena sweep`). */
export { sweep } from './sweep';

/**
 * Every workflow type is a pipeline name (`temporal workflow start --type train-pipeline`):
 * this default export is Temporal's dynamic workflow, which runs `pipelines/<type>.yaml`.
 */
export default async function pipelineWorkflow(input: PipelineInput): Promise<PipelineResult> {
  return runPipeline(input);
}
