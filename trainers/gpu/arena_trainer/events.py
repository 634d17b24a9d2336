"""Protocol events (docs/trainer-protocol.md): one JSON object per stdout line; humans read stderr."""

import json
import os
import sys
import time

# Under torchrun (trainer.parallel: ddp) every rank shares the launcher's stdout; only rank 0 speaks
# the protocol there, the others' events go to the log with their rank.
_RANK = os.environ.get("RANK", "0")
_PREFIX = "" if "WORLD_SIZE" not in os.environ else f"[rank {_RANK}] "


def emit(event: dict) -> None:
    if _RANK != "0":
        log(f"event {json.dumps(event)}")
        return
    # The activity parses stdout line by line while we run, so every line is flushed on its own.
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp} {_PREFIX}{message}\n")
    sys.stderr.flush()
