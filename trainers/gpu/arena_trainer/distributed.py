"""`trainer.parallel: ddp`: the process group torchrun launches this trainer into (one process per
GPU, gradients all-reduced every step). torchrun sets RANK, WORLD_SIZE and LOCAL_RANK; without them
the trainer is a single process and none of this runs."""

import os
from dataclasses import dataclass

import torch
import torch.distributed as dist


@dataclass(frozen=True)
class Ranks:
    rank: int
    world: int
    local_rank: int

    @property
    def leader(self) -> bool:
        """Rank 0 reads stdin, emits the protocol's events and writes every checkpoint."""
        return self.rank == 0


def launched_ranks() -> Ranks | None:
    """This process's place in a torchrun launch, or None when it was not launched by torchrun."""
    if "WORLD_SIZE" not in os.environ:
        return None
    return Ranks(rank=int(os.environ["RANK"]), world=int(os.environ["WORLD_SIZE"]), local_rank=int(os.environ.get("LOCAL_RANK", "0")))


def join(ranks: Ranks) -> torch.device:
    """Joins the process group (nccl on CUDA, gloo on a CPU) and returns this rank's device."""
    if torch.cuda.is_available():
        torch.cuda.set_device(ranks.local_rank)
        dist.init_process_group("nccl")
        return torch.device("cuda", ranks.local_rank)
    dist.init_process_group("gloo")
    return torch.device("cpu")


def any_rank(flag: bool, device: torch.device) -> bool:
    """True on every rank when it is true on one: the ranks agree to stop at the same step."""
    value = torch.tensor([1.0 if flag else 0.0], device=device)
    dist.all_reduce(value, op=dist.ReduceOp.MAX)
    return bool(value.item() > 0)


def summed(values: list, device: torch.device) -> list:
    """The element-wise sum of `values` over the ranks (float64, so row counts stay exact)."""
    tensor = torch.tensor(values, dtype=torch.float64, device=device)
    dist.all_reduce(tensor)
    return tensor.tolist()


def barrier() -> None:
    dist.barrier()


def leave() -> None:
    dist.destroy_process_group()
