"""scripts/prepare-basemodel.py without a hub: a clear failure and no folder left behind."""

import os
import subprocess
import sys

from conftest import REPO_ROOT


def test_download_without_a_hub_fails_clearly(tmp_path):
    out = tmp_path / "gemma"
    # A closed local port stands for "no internet": nothing leaves the machine.
    env = {**os.environ, "HF_ENDPOINT": "http://127.0.0.1:9", "HF_HUB_ETAG_TIMEOUT": "2", "HF_HUB_DOWNLOAD_TIMEOUT": "2"}
    env.pop("HF_HUB_OFFLINE", None)
    result = subprocess.run([sys.executable, "scripts/prepare-basemodel.py", "--out", str(out)], cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert "cannot download google/gemma-2-9b-it: no connection to the Hugging Face hub" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    assert os.listdir(tmp_path) == []
