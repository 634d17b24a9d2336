"""GPU check of the trainer at the reference size: a randomly initialised model with Gemma-2-9B's
shapes, loaded by the trainer's own code in 4-bit NF4 with LoRA, trained for 30 steps on random
tokens (max_length 2048, batch 4). Prints tokens/s, step time and peak GPU memory.

    PYTHONPATH=trainers/gpu $(bash scripts/setup-trainer-env.sh) trainers/gpu/bench/gpu_check.py [--steps 30] [--layers 42]

Needs CUDA, about 20 GB of free disk for the random bf16 weights (written to a temp folder, removed
after), and a few minutes; the figures are for docs/gpu-trainer.md, not a test.
"""

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

REPO_ROOT = os.path.normpath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
REFERENCE_CONFIG = "gemma2_9b_4bit"


def reference_settings(basemodel: str, max_length: int, batch_size: int):
    """The trainer settings of the reference config, resolved by the project's own loader (`arena
    config show`: extends chain and schema defaults), at this check's backbone folder, length and
    batch: never a hand-built copy that drifts from the schema."""
    import yaml

    from arena_trainer.spec import settings_from_config

    shown = subprocess.run(["node", "--import", "tsx", "cli/arena.ts", "config", "show", REFERENCE_CONFIG], cwd=REPO_ROOT, capture_output=True, text=True, check=True)
    config = yaml.safe_load(shown.stdout)
    config["model"].update(basemodel_path=basemodel, max_length=max_length)
    config["trainer"].update(batch_size=batch_size, epochs=1)
    return settings_from_config(REFERENCE_CONFIG, {key: config[key] for key in ("seed", "augment", "model", "trainer")})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--max-length", type=int, default=2048)
    parser.add_argument("--layers", type=int, default=42, help="fewer for a quick look; 42 is Gemma-2-9B")
    args = parser.parse_args()

    import torch

    if not torch.cuda.is_available():
        sys.exit("gpu_check: no CUDA device is visible (torch.cuda.is_available() is false); run it on a GPU machine")

    import torch.nn.functional as F
    from transformers import Gemma2Config, Gemma2ForCausalLM

    from arena_trainer.model import build_model, trainable_parameters
    from arena_trainer.train import autocast_for, make_optimizer

    config = Gemma2Config(  # Gemma-2-9B
        vocab_size=256000, hidden_size=3584, intermediate_size=14336, num_hidden_layers=args.layers,
        num_attention_heads=16, num_key_value_heads=8, head_dim=256, sliding_window=4096, attn_implementation="eager",
    )
    folder = tempfile.mkdtemp(prefix="gemma2-9b-random-")
    try:
        began = time.monotonic()
        torch.manual_seed(0)
        torch.set_default_dtype(torch.bfloat16)
        with torch.device("cuda"):
            model = Gemma2ForCausalLM(config)
        torch.set_default_dtype(torch.float32)
        model.save_pretrained(folder, safe_serialization=True)
        del model
        torch.cuda.empty_cache()
        print(f"random weights written in {time.monotonic() - began:.0f} s", flush=True)

        settings = reference_settings(folder, args.max_length, args.batch_size)
        model_settings = settings.model
        device = torch.device("cuda", 0)
        began = time.monotonic()
        net = build_model(model_settings, 21, device, init_seed=1, quantize=True, training=True)
        print(f"4-bit backbone + LoRA loaded in {time.monotonic() - began:.0f} s, {torch.cuda.memory_allocated() / 2**30:.1f} GiB allocated", flush=True)
        optimizer = make_optimizer(trainable_parameters(net), settings)
        autocast, _ = autocast_for(device)
        net.train()
        torch.cuda.reset_peak_memory_stats()
        times = []
        for step in range(args.steps):
            ids = torch.randint(3, config.vocab_size, (args.batch_size, args.max_length), device=device)
            mask = torch.ones_like(ids)
            features = torch.randn(args.batch_size, 21, device=device)
            labels = torch.randint(0, 2, (args.batch_size,), device=device).float()
            torch.cuda.synchronize()
            t0 = time.monotonic()
            with autocast:
                logits = net(ids, mask, features).float().squeeze(-1)
            F.binary_cross_entropy_with_logits(logits, labels).backward()
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            torch.cuda.synchronize()
            times.append(time.monotonic() - t0)
            print(f"step {step + 1}: {times[-1]:.2f} s", flush=True)
        steady = times[3:] if len(times) > 5 else times
        step_s = sum(steady) / len(steady)
        print(f"device: {torch.cuda.get_device_name(0)}")
        print(f"step time: {step_s:.2f} s (mean of steps {len(times) - len(steady) + 1}-{len(times)})")
        print(f"tokens/s: {args.batch_size * args.max_length / step_s:.0f}")
        print(f"peak GPU memory: {torch.cuda.max_memory_allocated() / 2**30:.1f} GiB allocated, {torch.cuda.max_memory_reserved() / 2**30:.1f} GiB reserved")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(REPO_ROOT, "trainers", "gpu"))
    main()
