"""Layer 4 — training: packing and collation, the stage runner (keys, reuse, resume), and the pretrain / CPT / SFT
stages on the HF Trainer."""
from .packing import BlockDataset, SFTDataset, pack_blocks, pad_collate, pad_sequences, sft_example, tokenize_texts
from .runner import (StageTrainer, checkpoint_fingerprint, checkpoint_id, finished, run_stage, stage_dir, stage_info,
                     stage_log)
from .stages import base_model, cpt, describe_base, ensure_tokenizer, pretrain, sft, sft_checkpoints

__all__ = ["BlockDataset", "SFTDataset", "StageTrainer", "base_model", "checkpoint_fingerprint", "checkpoint_id", "cpt",
           "describe_base", "ensure_tokenizer", "finished", "pack_blocks", "pad_collate", "pad_sequences", "pretrain",
           "run_stage", "sft", "sft_checkpoints", "sft_example", "stage_dir", "stage_info", "stage_log",
           "tokenize_texts"]
