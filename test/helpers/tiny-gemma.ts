import { execFileSync } from 'node:child_process';
import { cpSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before } from 'node:test';
import { DEFAULT_CONFIG_DIR } from '../../lib/config/load';
import { REPO_ROOT } from '../../worker';
import { removeDir, tempDir } from './temporal';

/**
 * A config folder for workers: the shipped configs plus `gemma2_tiny_test`, gemma2_tiny_cpu on a tiny
 * random Gemma-2 that a `before` hook registered here builds (an `after` hook removes both). The
 * backbone is named on the worker's side because model.basemodel_path is a worker's filesystem root,
 * which a workflow input may not set.
 */
export function tinyGemmaConfigs(): string {
  const models = tempDir('gemma-model');
  const configDir = tempDir('gemma-configs');
  before(() => {
    const python = execFileSync('bash', ['scripts/setup-trainer-env.sh'], { cwd: REPO_ROOT, encoding: 'utf8' }).trim();
    execFileSync(python, ['trainers/gpu/tests/tiny_gemma2.py', path.join(models, 'gemma2-tiny')], { cwd: REPO_ROOT, env: { ...process.env, PYTHONPATH: 'trainers/gpu' } });
    cpSync(DEFAULT_CONFIG_DIR, configDir, { recursive: true });
    writeFileSync(path.join(configDir, 'gemma2_tiny_test.yaml'), `extends: gemma2_tiny_cpu\nmodel:\n  basemodel_path: ${JSON.stringify(path.join(models, 'gemma2-tiny'))}\n`);
  });
  after(() => {
    removeDir(models);
    removeDir(configDir);
  });
  return configDir;
}
