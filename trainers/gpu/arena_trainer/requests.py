"""Requests the activity writes to stdin (docs/trainer-protocol.md): one JSON object a line.
`{"command": "preempt"}`: train checkpoints before its next step and exits pre-empted; the other
verbs are short and exit pre-empted at once. End of file: the activity's worker is gone."""

import json
import os
import sys
import threading

from .events import log

PREEMPT = threading.Event()


def watch_stdin(verb: str, on_eof, on_preempt_now) -> None:
    # Under torchrun (trainer.parallel: ddp) every rank inherits the launcher's stdin: rank 0 alone
    # reads it and hands a pre-emption to the others through the process group (train.py); when it
    # exits on end of file, torchrun ends the other ranks.
    if os.environ.get("RANK", "0") != "0":
        return
    def read() -> None:
        for raw in sys.stdin.buffer:
            line = raw.decode("utf-8", "replace").strip()
            if not line:
                continue
            try:
                request = json.loads(line)
            except ValueError:
                request = None
            if isinstance(request, dict) and request.get("command") == "preempt":
                if verb != "train":
                    on_preempt_now(f"pre-empted before {verb} finished")
                log("pre-empted: checkpointing at the current step")
                PREEMPT.set()
            else:
                log(f"ignored an unknown stdin request: {line[:200]}")
        on_eof()

    threading.Thread(target=read, name="stdin-requests", daemon=True).start()
