"""Layer 0 — configuration, torch-free: the config dataclasses, unlearning methods' hyperparameters, profiles,
notebook parameters and paths."""
from .kernels import KernelSettingError, kernel_key, kernel_record, pin_kernels
from .methods import BIAS_METHODS, FORGET_METHODS, BoundedParams, NoParams, NPOParams, SimNPOParams, method_params
from .parameters import ALL_NOTEBOOKS, NOTEBOOK_PARAMETERS, NOTEBOOKS, PHASE_NOTEBOOK, resolve_notebook_parameters
from .paths import config_hash, repo_root, resolve_path, shown
from .profiles import PROFILES, apply_overrides, derive, get_profile, load_profile_file, paper_profile
from .schema import (ALL_PROMPTS_DIR, CLAIM4_CELL_RULE, COMMITTED_TRACKS, CPT_ARMS, MIN_UNLEARN_BLOCK, SUITES,
                     CPTConfig, DataConfig, EvalConfig, ModelConfig, PhaseConfig, Profile, SFTConfig, TrainConfig,
                     UnlearnConfig, check_ratio)

__all__ = ["ALL_NOTEBOOKS", "ALL_PROMPTS_DIR", "BIAS_METHODS", "BoundedParams", "CLAIM4_CELL_RULE",
           "COMMITTED_TRACKS", "CPTConfig", "CPT_ARMS", "DataConfig", "EvalConfig", "FORGET_METHODS",
           "KernelSettingError", "MIN_UNLEARN_BLOCK", "ModelConfig", "NOTEBOOKS", "NOTEBOOK_PARAMETERS", "NPOParams",
           "NoParams", "PHASE_NOTEBOOK", "PROFILES", "PhaseConfig", "Profile", "SFTConfig", "SUITES", "SimNPOParams",
           "TrainConfig", "UnlearnConfig", "apply_overrides", "check_ratio", "config_hash", "derive", "get_profile",
           "kernel_key", "kernel_record", "load_profile_file", "method_params", "paper_profile", "pin_kernels",
           "repo_root", "resolve_notebook_parameters", "resolve_path", "shown"]
