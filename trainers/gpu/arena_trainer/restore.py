"""A trained model rebuilt from a checkpoint, for export and prediction (dropout off)."""

import torch

from . import checkpoint as ckpt
from .model import build_model, trainable_parameters


def restore_model(settings, checkpoint_dir: str, device: torch.device, *, quantize: bool):
    """(model in eval mode, checkpoint) with the checkpoint's LoRA, branch, head and feature scaling."""
    saved = ckpt.read_checkpoint(checkpoint_dir)
    columns = saved["meta"]["shape"]["feature_columns"]
    model = build_model(settings.model, len(columns), device, init_seed=0, quantize=quantize, training=False)
    ckpt.assert_compatible(saved, checkpoint_dir, ckpt.model_shape(settings, columns, model.backbone.config.hidden_size))
    ckpt.load_weights(model, trainable_parameters(model), saved["weights"], checkpoint_dir)
    model.eval()
    return model, saved
