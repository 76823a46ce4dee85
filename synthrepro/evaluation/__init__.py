"""Layer 6 — evaluation: likelihood scoring, instruction following (the world's suite and IFEval behind one
interface), statistics for verdicts, text analysis, and lm-evaluation-harness arguments."""
from .following import instruction_metrics, leakage, score_instruction_following
from .scoring import benchmark_accuracy, continuation_logprobs, per_sample_nll, response_nll
from .stats import effect, grouped_variance, holm, paired_effect, proportion_se, rate, verdict, wilson_interval
from .suites import (LEAKED_KEPT, WORLD_SUITES, IFEvalSuite, WorldSuite, evaluate_ifeval, leaked_replies, make_suite,
                     make_suites, pick_leaked, probe)

__all__ = ["LEAKED_KEPT", "WORLD_SUITES", "IFEvalSuite", "WorldSuite", "benchmark_accuracy", "continuation_logprobs",
           "effect", "evaluate_ifeval", "grouped_variance", "holm", "instruction_metrics", "leakage", "leaked_replies",
           "make_suite", "make_suites",
           "paired_effect", "per_sample_nll", "pick_leaked", "probe", "proportion_se", "rate", "response_nll",
           "score_instruction_following", "verdict", "wilson_interval"]
