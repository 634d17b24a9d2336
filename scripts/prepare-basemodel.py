#!/usr/bin/env python3
"""Downloads a Gemma-2 backbone (weights + tokenizer) into a local folder for `model.basemodel_path`;
the trainer itself never downloads anything. Needs internet and, for google/gemma-2-*, a Hugging Face
token of an account that accepted the Gemma licence (HF_TOKEN). Run it with the trainer's python:

    $(bash scripts/setup-trainer-env.sh) scripts/prepare-basemodel.py --out models/gemma-2-9b-it
    $(bash scripts/setup-trainer-env.sh) scripts/prepare-basemodel.py --out models/gemma-2-9b-it --save-4bit models/gemma-2-9b-it-4bit

--save-4bit (CUDA only) also writes a pre-quantised NF4 copy: smaller and faster to load for train
and predict. Export needs the full-precision folder (LoRA is merged into unquantised weights).
Folders are written under a temporary name and renamed when complete.
"""

import argparse
import os
import shutil
import sys

WANTED = ["*.json", "*.safetensors", "tokenizer.model", "*.txt"]


def fail(message: str, leftover: str | None = None) -> None:
    if leftover:
        shutil.rmtree(leftover, ignore_errors=True)
    sys.stderr.write(f"prepare-basemodel: {message}\n")
    sys.exit(1)


def download(model_id: str, out: str, revision: str | None) -> None:
    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    partial = f"{out}.partial"
    try:
        snapshot_download(repo_id=model_id, revision=revision, local_dir=partial, allow_patterns=WANTED, token=os.environ.get("HF_TOKEN"))
    except GatedRepoError:
        fail(f"{model_id} is gated: accept its licence on huggingface.co and set HF_TOKEN", partial)
    except RepositoryNotFoundError:
        fail(f"{model_id} was not found on the hub (or HF_TOKEN cannot see it)", partial)
    except (LocalEntryNotFoundError, OSError) as err:
        fail(f"cannot download {model_id}: no connection to the Hugging Face hub ({type(err).__name__}). Run this on a machine with internet and copy {out} over", partial)
    shutil.rmtree(os.path.join(partial, ".cache"), ignore_errors=True)
    os.replace(partial, out)


def save_4bit(source: str, out: str) -> None:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, BitsAndBytesConfig

    if not torch.cuda.is_available():
        fail("--save-4bit needs CUDA (bitsandbytes quantises on the GPU)")
    quantization = BitsAndBytesConfig(load_in_4bit=True, bnb_4bit_quant_type="nf4", bnb_4bit_use_double_quant=True, bnb_4bit_compute_dtype=torch.bfloat16)
    model = AutoModelForCausalLM.from_pretrained(source, quantization_config=quantization, torch_dtype=torch.bfloat16, device_map={"": 0}, local_files_only=True)
    partial = f"{out}.partial"
    model.save_pretrained(partial, safe_serialization=True)
    AutoTokenizer.from_pretrained(source, local_files_only=True).save_pretrained(partial)
    os.replace(partial, out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", default="google/gemma-2-9b-it", help="hub id (default: google/gemma-2-9b-it)")
    parser.add_argument("--revision", default=None, help="commit or tag to pin")
    parser.add_argument("--out", required=True, help="folder to create, e.g. models/gemma-2-9b-it")
    parser.add_argument("--save-4bit", metavar="FOLDER", help="also save an NF4 copy here (CUDA)")
    args = parser.parse_args()
    if os.environ.get("HF_HUB_OFFLINE") == "1":
        fail("HF_HUB_OFFLINE=1 is set: this command must reach the hub; unset it")
    if os.path.exists(os.path.join(args.out, "config.json")):
        print(f"prepare-basemodel: {args.out} already holds a model; keeping it", file=sys.stderr)
    else:
        download(args.model, args.out, args.revision)
    if args.save_4bit and not os.path.exists(os.path.join(args.save_4bit, "config.json")):
        save_4bit(args.out, args.save_4bit)
    print(args.out)


if __name__ == "__main__":
    main()
