"""The preference model: a LoRA-adapted Gemma-2 backbone (4-bit NF4 on CUDA when asked), pooled
(`model.pooling`) and L2-normalised, beside a feature branch on (optionally standardised) features,
then an MLP head."""

import json
import os

import torch
import torch.nn.functional as F
from torch import nn

from .errors import UserInputError
from .nf4 import emulate_4bit_backbone
from .spec import ModelSettings


def pick_device() -> torch.device:
    return torch.device("cuda", 0) if torch.cuda.is_available() else torch.device("cpu")


def last_token_index(attention_mask: torch.Tensor) -> torch.Tensor:
    """Index of each row's last real token, for left or right padding. In float, because ArgMax over
    int64 is not implemented by every ONNX runtime."""
    width = attention_mask.shape[1]
    positions = torch.arange(width, dtype=torch.float32, device=attention_mask.device)
    return (attention_mask.to(torch.float32) * positions).argmax(dim=-1)


def pool(hidden: torch.Tensor, attention_mask: torch.Tensor, pooling: str) -> torch.Tensor:
    """[N, H] float32. eos and last_token both take the last real position (under whole_string
    tokenization that is the EOS); mean averages the real positions, as the reference's final commit."""
    if pooling == "mean":
        mask = attention_mask.unsqueeze(-1).to(torch.float32)
        return (hidden.float() * mask).sum(dim=1) / mask.sum(dim=1)
    index = last_token_index(attention_mask).view(-1, 1, 1).expand(-1, 1, hidden.shape[-1])
    return hidden.gather(1, index).squeeze(1).float()


class PreferenceModel(nn.Module):
    def __init__(self, backbone: nn.Module, hidden_size: int, feature_count: int, s: ModelSettings):
        super().__init__()
        self.backbone = backbone
        self.register_buffer("feature_mean", torch.zeros(feature_count))
        self.register_buffer("feature_std", torch.ones(feature_count))
        self.pooling = s.pooling
        self.feature_branch = nn.Linear(feature_count, s.feature_dim)
        if s.feature_init == "xavier_zero":
            nn.init.xavier_uniform_(self.feature_branch.weight)
            nn.init.zeros_(self.feature_branch.bias)
        self.head = nn.Sequential(
            nn.Linear(hidden_size + s.feature_dim, s.hidden_dim),
            nn.ReLU(),
            nn.Dropout(s.head_dropout),
            nn.Linear(s.hidden_dim, 1),
        )

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """Logit that model_a wins, [N, 1]."""
        # Positions count real tokens only, so a left-padded row sees the same positions as unpadded.
        position_ids = (attention_mask.cumsum(-1) - 1).clamp(min=0)
        hidden = self.backbone(input_ids=input_ids, attention_mask=attention_mask, position_ids=position_ids, use_cache=False).last_hidden_state
        text = F.normalize(pool(hidden, attention_mask, self.pooling), dim=-1)
        scaled = (features.float() - self.feature_mean) / self.feature_std
        branch = F.normalize(self.feature_branch(scaled), dim=-1)
        return self.head(torch.cat([text, branch], dim=-1))


def basemodel_is_prequantized(path: str) -> bool:
    with open(os.path.join(path, "config.json"), encoding="utf-8") as f:
        return "quantization_config" in json.load(f)


def load_backbone(s: ModelSettings, device: torch.device, *, quantize: bool, training: bool) -> nn.Module:
    """The base model from the local folder (never the hub). 4-bit NF4 with double quantisation and
    bf16 compute when `quantize`; bf16 on CUDA otherwise; float32 on CPU, holding the NF4-dequantised
    weights when the config asks for 4-bit (nf4.py)."""
    from transformers import AutoModel

    kwargs = {"local_files_only": True, "attn_implementation": "eager"}
    if device.type == "cuda":
        kwargs["device_map"] = {"": device.index or 0}
        kwargs["torch_dtype"] = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    else:
        kwargs["torch_dtype"] = torch.float32
    if quantize:
        from transformers import BitsAndBytesConfig

        kwargs["quantization_config"] = BitsAndBytesConfig(
            load_in_4bit=True,
            bnb_4bit_quant_type="nf4",
            bnb_4bit_use_double_quant=True,
            bnb_4bit_compute_dtype=kwargs["torch_dtype"],
        )
    elif basemodel_is_prequantized(s.basemodel_path) and device.type != "cuda":
        raise UserInputError(f"config.model.basemodel_path: {s.basemodel_path} holds 4-bit weights, which load only on CUDA; use the full-precision copy")
    try:
        backbone = AutoModel.from_pretrained(s.basemodel_path, **kwargs)
    except (OSError, ValueError) as err:
        raise UserInputError(f"config.model.basemodel_path: cannot load {s.basemodel_path}: {str(err).splitlines()[0]}") from None
    if s.quantization == "4bit" and not quantize:
        # No 4-bit kernels here (a CPU; the export): the values the NF4 weights dequantise to instead.
        emulate_4bit_backbone(backbone)
    if quantize and training:
        from peft import prepare_model_for_kbit_training

        backbone = prepare_model_for_kbit_training(backbone, use_gradient_checkpointing=True, gradient_checkpointing_kwargs={"use_reentrant": False})
    elif device.type == "cuda" and training:
        backbone.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    return backbone


def add_lora(backbone: nn.Module, s: ModelSettings) -> nn.Module:
    from peft import LoraConfig, get_peft_model

    names = {name.rsplit(".", 1)[-1] for name, _ in backbone.named_modules()}
    missing = [m for m in s.lora.target_modules if m not in names]
    if missing:
        raise UserInputError(f"config.model.lora.target_modules: the backbone has no module named {', '.join(missing)}")
    config = LoraConfig(r=s.lora.r, lora_alpha=s.lora.alpha, lora_dropout=s.lora.dropout, target_modules=list(s.lora.target_modules), bias="none")
    return get_peft_model(backbone, config)


def build_model(s: ModelSettings, feature_count: int, device: torch.device, *, init_seed: int, quantize: bool, training: bool) -> PreferenceModel:
    """Backbone + LoRA + branch + head. LoRA and head weights come from `init_seed` alone, so every
    shard of a fresh run starts from the same point."""
    backbone = load_backbone(s, device, quantize=quantize, training=training)
    hidden_size = backbone.config.hidden_size
    torch.manual_seed(init_seed)
    model = PreferenceModel(add_lora(backbone, s), hidden_size, feature_count, s)
    model.feature_branch.to(device)
    model.head.to(device)
    return model.to(device) if device.type == "cpu" else _move_own_parts(model, device)


def _move_own_parts(model: PreferenceModel, device: torch.device) -> PreferenceModel:
    # The backbone already sits on the device (device_map); moving a 4-bit model again is refused.
    model.feature_mean = model.feature_mean.to(device)
    model.feature_std = model.feature_std.to(device)
    return model


def trainable_parameters(model: PreferenceModel) -> dict:
    """name -> parameter of everything trained: LoRA matrices, feature branch, head."""
    return {name: p for name, p in model.named_parameters() if p.requires_grad}


def parameter_group(name: str) -> str:
    if name.startswith("feature_branch."):
        return "features"
    if name.startswith("head."):
        return "head"
    return "backbone"


def load_tokenizer(path: str):
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except (OSError, ValueError) as err:
        raise UserInputError(f"config.model.basemodel_path: cannot load the tokenizer of {path}: {str(err).splitlines()[0]}") from None
