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
import sys
import tempfile
import time


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
    from arena_trainer.spec import LoraSettings, ModelSettings, Settings, TrainerSettings
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

        lora = LoraSettings(r=16, alpha=32, dropout=0.05, target_modules=("q_proj", "k_proj", "v_proj"))
        model_settings = ModelSettings(basemodel_path=folder, quantization="4bit", max_length=args.max_length, truncation="head_tail", feature_dim=128, hidden_dim=1536, head_dropout=0.2, lora=lora)
        trainer = TrainerSettings(epochs=1, batch_size=args.batch_size, grad_accumulation=1, lr_backbone=1e-5, lr_features=5e-4, lr_head=5e-4, weight_decay=0.01, warmup_ratio=0.05, checkpoint_every_steps=200, early_stopping_patience=0, step_delay_ms=0)
        settings = Settings(seed=42, augment_mode="per_gpu", model=model_settings, trainer=trainer, eval_batch_size=8)
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
    sys.path.insert(0, os.path.normpath(os.path.join(os.path.dirname(__file__), "..")))
    main()
