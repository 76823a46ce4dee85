"""Layer 1 — files: each notebook's recorded JSON under runs/<profile>/ (written atomically, with the commit),
atomic directories, sha256-verified shipped files, JSONL with line-numbered errors."""
from .files import installed_package_dir, load_jsonl, rows_sha256, verified_file, write_atomic_dir
from .results import git_commit, load, record, write_json_atomic

__all__ = ["git_commit", "installed_package_dir", "load", "load_jsonl", "record", "rows_sha256", "verified_file",
           "write_atomic_dir", "write_json_atomic"]
