"""Layer 5 — unlearning: the forgetting and bias-mitigation registries, the unlearning Trainer, `unlearn_model` for
any Hugging Face causal LM, and the pipeline's `unlearn` stage."""
from .api import unlearn_model
from .losses import (BIAS_LOSSES, FORGET_LOSSES, BiasInputs, BiasMethod, ForgetInputs, kl_to_reference, register_bias,
                     register_forget, token_nll)
from .stage import unlearn
from .trainer import DivergenceError, UnlearnDataset, UnlearnTrainer, sequence_stats, train_unlearning

__all__ = ["BIAS_LOSSES", "BiasInputs", "BiasMethod", "DivergenceError", "FORGET_LOSSES", "ForgetInputs",
           "UnlearnDataset", "UnlearnTrainer", "kl_to_reference", "register_bias", "register_forget",
           "sequence_stats", "token_nll", "train_unlearning", "unlearn", "unlearn_model"]
