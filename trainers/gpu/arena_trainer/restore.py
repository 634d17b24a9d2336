"""A trained model rebuilt from a checkpoint, for export and prediction (dropout off)."""

import torch

from . import checkpoint as ckpt
from .model import build_model, trainable_parameters


def model_with_weights(settings, saved: dict, source: str, device: torch.device, *, quantize: bool):
    """The model in eval mode with `saved`'s LoRA, branch, head and feature scaling (`source` names it in errors)."""
    columns = saved["meta"]["shape"]["feature_columns"]
    model = build_model(settings.model, len(columns), device, init_seed=0, quantize=quantize, training=False)
    ckpt.assert_compatible(saved, source, ckpt.model_shape(settings, columns, model.backbone.config.hidden_size))
    ckpt.load_weights(model, trainable_parameters(model), saved["weights"], source)
    model.eval()
    return model


def restore_model(settings, checkpoint_dir: str, device: torch.device, *, quantize: bool):
    """(model in eval mode, checkpoint) of a checkpoint folder."""
    saved = ckpt.read_checkpoint(checkpoint_dir)
    return model_with_weights(settings, saved, checkpoint_dir, device, quantize=quantize), saved
