"""The GPU trainer: a Gemma-2 QLoRA preference model behind docs/trainer-protocol.md."""
