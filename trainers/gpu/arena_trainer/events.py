"""Protocol events (docs/trainer-protocol.md): one JSON object per stdout line; humans read stderr."""

import json
import sys
import time


def emit(event: dict) -> None:
    # The activity parses stdout line by line while we run, so every line is flushed on its own.
    sys.stdout.write(json.dumps(event) + "\n")
    sys.stdout.flush()


def log(message: str) -> None:
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime())
    sys.stderr.write(f"{stamp} {message}\n")
    sys.stderr.flush()
