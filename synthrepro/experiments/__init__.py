"""Layer 7 — experiments: the CPT arms, their evaluation, verdicts on the paper's claims, the unlearning runs, costs
(measured tables and GPU-hour estimates) and the phase map (dose × SFT strength, paired per prompt)."""
from .arm_evaluation import evaluate_arm, evaluate_arms, evaluate_base
from .arms import arm_name, train_arms
from .claims import claim_4, claims_1_to_3, describe_claim_4, describe_claims, summary_table
from .costs import GPU, cost_table, gpu_hours
from .phase_map import cell_table, choose_claim4_cell, phase_jobs, train_and_evaluate
from .unlearning_runs import method_config, unlearn_then_sft, unlearning_jobs

__all__ = ["GPU", "arm_name", "cell_table", "choose_claim4_cell", "claim_4", "claims_1_to_3", "cost_table",
           "describe_claim_4", "describe_claims", "evaluate_arm", "evaluate_arms", "evaluate_base", "gpu_hours",
           "method_config", "phase_jobs", "summary_table", "train_and_evaluate", "train_arms", "unlearn_then_sft",
           "unlearning_jobs"]
