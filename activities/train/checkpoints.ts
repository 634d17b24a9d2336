/** What a train attempt leaves in its heartbeat details: where a retry resumes. */
export interface ResumePoint {
  /** The checkpoint folder, relative to the run store's root (another machine resolves it). */
  checkpoint: string;
  step: number;
}

export function isResumePoint(value: unknown): value is ResumePoint {
  return typeof value === 'object' && value !== null && typeof (value as ResumePoint).checkpoint === 'string' && typeof (value as ResumePoint).step === 'number';
}
