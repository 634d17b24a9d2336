/**
 * Where Kaggle mounts what a kernel attaches: a dataset `owner/slug` at /kaggle/input/<slug>, a model
 * `owner/model/framework/variation/version` at /kaggle/input/<model>/<framework>/<variation>/<version>.
 */
export function kaggleInputPath(handle: string): string {
  const parts = handle.split('/');
  return ['/kaggle/input', ...parts.slice(1)].join('/');
}

/** A model handle has five parts; a dataset two. */
export function isModelHandle(handle: string): boolean {
  return handle.split('/').length === 5;
}

/** The dataset id when the user named none: Kaggle refuses it, so the upload step asks for a real one. */
export const PLACEHOLDER_DATASET = 'INSERT_OWNER/arena-package';
