import type { ValidMetrics } from './selection';

/** Protocol events (docs/trainer-protocol.md): one JSON object per stdout line; humans read stderr. */

export type TrainerEvent =
  | { event: 'start'; step: number; total_steps: number }
  | { event: 'progress'; step: number; epoch: number; loss: number; rows_per_s: number; lr: number }
  | { event: 'checkpoint'; step: number; path: string }
  | { event: 'metrics'; step: number; epoch: number; train_loss: number; valid_loss: number; valid_accuracy: number }
  | { event: 'done'; checkpoint?: string; model?: string; step?: number; stopped_early?: boolean; finished?: boolean; valid_metrics?: ValidMetrics | undefined }
  | { event: 'error'; kind: 'user' | 'oom' | 'preempted' | 'internal'; message: string };

export function emit(event: TrainerEvent): void {
  process.stdout.write(`${JSON.stringify(event)}\n`);
}

export function log(message: string): void {
  process.stderr.write(`${new Date().toISOString()} ${message}\n`);
}
