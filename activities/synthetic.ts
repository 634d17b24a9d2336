import type { StageContext } from '../lib/stage';

/** Whether the run's data was generated rather than real: carried on in every stage summary that touches it. */
export function fromSyntheticData(ctx: Pick<StageContext, 'upstream'>): boolean {
  return Object.values(ctx.upstream).some((result) => result.summary['synthetic'] === true);
}
