"""Offline inference for a packaged arena-pipeline run (see kaggle/README in the project): the
features from the pipeline's own SQL, the GPU trainer's own model code, swap-TTA, submission.csv."""
