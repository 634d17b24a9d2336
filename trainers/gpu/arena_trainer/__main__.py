"""`python -m arena_trainer <train|merge|export|predict> --spec spec.json` (docs/trainer-protocol.md):
events on stdout, logs on stderr; exit 2 on rejected input, 3 on out-of-memory, 4 when pre-empted by
the `preempt` stdin request (train checkpoints first), 1 otherwise."""

import os
import sys
import traceback

EXIT_INTERNAL = 1
EXIT_USER = 2
EXIT_OOM = 3
EXIT_PREEMPTED = 4

# Nothing is fetched at run time: the backbone and tokenizer come from model.basemodel_path.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

from .errors import Preempted, UserInputError  # noqa: E402
from .events import emit, log  # noqa: E402
from .requests import watch_stdin  # noqa: E402
from .spec import VERBS, read_spec  # noqa: E402


def gone() -> None:
    """End of file on stdin: the activity's worker is gone, so stop at once."""
    log("stdin closed: the activity is gone, exiting")
    os._exit(EXIT_INTERNAL)


def fail(kind: str, message: str, code: int):
    emit({"event": "error", "kind": kind, "message": message})
    log(f"{kind} error: {message}")
    sys.stdout.flush()
    os._exit(code)


def is_out_of_memory(err: BaseException) -> bool:
    """CUDA out of memory, or a host allocation torch or Python could not get."""
    if isinstance(err, MemoryError):
        return True
    torch = sys.modules.get("torch")
    if torch is not None and isinstance(err, torch.cuda.OutOfMemoryError):
        return True
    return isinstance(err, RuntimeError) and "DefaultCPUAllocator: can't allocate memory" in str(err)


def run(argv: list) -> None:
    if len(argv) != 3 or argv[0] not in VERBS or argv[1] != "--spec":
        raise UserInputError(f"usage: python -m arena_trainer <{'|'.join(VERBS)}> --spec <spec.json> (got: {' '.join(argv)})")
    verb, spec_file = argv[0], argv[2]
    watch_stdin(verb, gone, lambda message: fail("preempted", message, EXIT_PREEMPTED))
    spec = read_spec(verb, spec_file)
    if verb == "train":
        from .train import train_command as command
    elif verb == "merge":
        from .merge import merge_command as command
    elif verb == "export":
        from .export import export_command as command
    else:
        from .predict import predict_command as command
    command(spec)


def main() -> None:
    try:
        run(sys.argv[1:])
    except UserInputError as err:
        fail("user", str(err), EXIT_USER)
    except Preempted as err:
        fail("preempted", str(err), EXIT_PREEMPTED)
    except BaseException as err:  # noqa: BLE001 - every failure must end as a protocol error event
        if is_out_of_memory(err):
            fail("oom", str(err).splitlines()[0] if str(err) else type(err).__name__, EXIT_OOM)
        if isinstance(err, KeyboardInterrupt):
            fail("preempted", "interrupted", EXIT_INTERNAL)
        fail("internal", "".join(traceback.format_exception(err)), EXIT_INTERNAL)
    sys.stdout.flush()
    os._exit(0)


main()
