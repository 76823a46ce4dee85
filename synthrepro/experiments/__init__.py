"""Layer 7 — experiments: the CPT arms, their evaluation, verdicts on the paper's claims, the unlearning runs, and
costs (measured tables and GPU-hour estimates)."""
from .arm_evaluation import evaluate_arm, evaluate_arms, evaluate_base
from .arms import arm_name, train_arms
from .claims import claim_4, claims_1_to_3, describe_claim_4, describe_claims, summary_table
from .costs import GPU, cost_table, gpu_hours
from .unlearning_runs import method_config, unlearn_then_sft, unlearning_jobs

__all__ = ["GPU", "arm_name", "claim_4", "claims_1_to_3", "cost_table", "describe_claim_4", "describe_claims",
           "evaluate_arm", "evaluate_arms", "evaluate_base", "gpu_hours", "method_config", "summary_table",
           "train_arms", "unlearn_then_sft", "unlearning_jobs"]
