"""Layer 1 — files: each notebook's recorded JSON under runs/<profile>/ (written atomically, with the commit),
atomic directories, sha256-verified shipped files, JSONL with line-numbered errors."""
from .files import (StaleArtifactError, file_sha256, installed_package_dir, load_jsonl, locked, rows_sha256,
                    verified_file, write_atomic_dir)
from .results import (begin, cached_json, check_one_world, git_commit, load, load_timing, record, record_timing,
                      write_json_atomic)

__all__ = ["StaleArtifactError", "begin", "cached_json", "check_one_world", "file_sha256", "git_commit", "installed_package_dir", "load", "load_jsonl",
           "load_timing", "locked", "record", "record_timing", "rows_sha256", "verified_file", "write_atomic_dir", "write_json_atomic"]
