"""Figures (matplotlib, headless). Every function saves PNG and PDF and returns the PNG path."""
from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import NullLocator  # noqa: E402
import numpy as np  # noqa: E402
from scipy.stats import gaussian_kde  # noqa: E402

COLORS = {"NonSynth": "#1f77b4", "SynthQA": "#d62728"}


def save(fig, out_dir: Path, name: str) -> Path:
    """Save `fig` as <name>.png and <name>.pdf under out_dir; returns the PNG path."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    fig.tight_layout()
    fig.savefig(out_dir / f"{name}.png", dpi=130)
    fig.savefig(out_dir / f"{name}.pdf")
    plt.close(fig)
    return out_dir / f"{name}.png"


def _kde(values: np.ndarray, grid: np.ndarray) -> np.ndarray:
    return gaussian_kde(values)(grid) if len(values) > 1 and np.std(values) > 0 else np.zeros_like(grid)


def token_frequency_kde(logfreqs: dict[str, dict[str, float]], structural: dict[str, dict[str, float]],
                        out_dir: Path, name: str = "token_frequency_kde") -> Path:
    """KDE of log10 word-type frequency per corpus; structural Q-A words marked where they sit in SynthQA."""
    fig, ax = plt.subplots(figsize=(7, 4))
    all_v = np.concatenate([np.array(list(v.values())) for v in logfreqs.values()])
    grid = np.linspace(all_v.min() - 0.3, all_v.max() + 0.3, 400)
    for label, freqs in logfreqs.items():
        v = np.array(list(freqs.values()))
        ax.plot(grid, _kde(v, grid), label=f"{label} ({len(v)} word types)", color=COLORS.get(label))
        ax.fill_between(grid, _kde(v, grid), alpha=0.15, color=COLORS.get(label))
    for label, marks in structural.items():
        at: dict[float, list[str]] = {}
        for word, f in marks.items():  # words at the same frequency share one label
            at.setdefault(round(f, 2), []).append(word)
        for f, ws in at.items():
            ax.axvline(f, color=COLORS.get(label, "k"), ls=":", lw=1)
            ax.text(f, ax.get_ylim()[1] * 0.95, " ".join(ws), rotation=90, va="top", ha="right", fontsize=7,
                    color=COLORS.get(label, "k"))
    ax.set_xlabel("log10 relative frequency of a word type (per word token)")
    ax.set_ylabel("density over word types")
    ax.set_title("Token-frequency density; dotted: Q-A template words in SynthQA")
    ax.legend()
    return save(fig, out_dir, name)


def embedding_map(points: np.ndarray, labels: list[str], method: str, out_dir: Path, name: str = "tsne_synthqa_vs_nonsynth",
                  title_extra: str = "") -> Path:
    """Scatter of a 2-D embedding map coloured by set."""
    fig, ax = plt.subplots(figsize=(6, 5))
    labels_arr = np.array(labels)
    for label in dict.fromkeys(labels):
        sel = labels_arr == label
        ax.scatter(points[sel, 0], points[sel, 1], s=6, alpha=0.6, label=f"{label} (n={sel.sum()})",
                   color=COLORS.get(label))
    ax.set_xlabel("t-SNE 1")
    ax.set_ylabel("t-SNE 2")
    ax.set_title(f"t-SNE of {method} embeddings {title_extra}".strip())
    ax.legend(markerscale=3)
    return save(fig, out_dir, name)


def length_histogram(lengths: dict[str, list[int]], out_dir: Path, name: str = "sample_lengths") -> Path:
    """Histogram of words per sample for each set."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    top = max(max(v) for v in lengths.values())
    bins = np.arange(0, top + 2)
    for label, v in lengths.items():
        ax.hist(v, bins=bins, alpha=0.5, density=True, label=label, color=COLORS.get(label))
    ax.set_xlabel("words per sample")
    ax.set_ylabel("share of samples")
    ax.legend()
    return save(fig, out_dir, name)


def loss_curve(logs: dict[str, list[dict]], out_dir: Path, name: str = "loss_curve", title: str = "") -> Path:
    """Training loss (mean token NLL, nats; lower is better) against optimizer step, one line per run."""
    fig, ax = plt.subplots(figsize=(6, 3.5))
    for label, rows in logs.items():
        rows = [r for r in rows if "loss" in r]
        ax.plot([r["step"] for r in rows], [r["loss"] for r in rows], label=label)
    ax.set_xlabel("optimizer step")
    ax.set_ylabel("training loss (nats/token)")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, out_dir, name)


ARM_COLORS = {"reference": "#1f77b4", "synthetic": "#d62728", "dilution": "#2ca02c", "unlearned": "#9467bd",
              "unlearned:bounded": "#9467bd"}


_OTHER_COLORS = ("#ff7f0e", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf", "#393b79", "#637939")


def _arm_color(arm: str, i: int):
    """The arm's own colour (reference, synthetic, dilution, unlearned); others from a palette that avoids them."""
    return ARM_COLORS.get(arm, _OTHER_COLORS[i % len(_OTHER_COLORS)])


def distributions(values: dict[str, list[float]], xlabel: str, out_dir: Path, name: str, title: str = "") -> Path:
    """Overlaid densities (KDE) of per-sample values per arm, each with its mean (dashed) and std in the legend."""
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    allv = np.concatenate([np.asarray(v, float) for v in values.values()])
    lo, hi = np.percentile(allv, [0.5, 99.5])
    grid = np.linspace(lo, hi, 300)
    for i, (label, v) in enumerate(values.items()):
        v = np.asarray(v, float)
        c = _arm_color(label, i)
        ax.plot(grid, _kde(v, grid), color=c, label=f"{label}: mean {v.mean():.3f}, std {v.std():.3f}")
        ax.axvline(v.mean(), color=c, ls="--", lw=0.8)
    ax.set_xlabel(xlabel)
    ax.set_ylabel("density")
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, out_dir, name)


def hidden_maps(maps: dict[str, dict], out_dir: Path, name: str = "tsne_hidden_states") -> Path:
    """One t-SNE panel per arm of its own hidden states for SynthQA vs NonSynth samples."""
    fig, axes = plt.subplots(1, len(maps), figsize=(4.2 * len(maps), 4), squeeze=False)
    for ax, (arm, m) in zip(axes[0], maps.items()):
        pts, labels = np.asarray(m["points"]), np.array(m["labels"])
        for label in ("NonSynth", "SynthQA"):
            sel = labels == label
            ax.scatter(pts[sel, 0], pts[sel, 1], s=5, alpha=0.6, color=COLORS[label], label=label)
        ax.set_title(f"{arm} (overlap {m['overlap_hidden']:.2f})", fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    axes[0][0].legend(markerscale=3, fontsize=7)
    return save(fig, out_dir, name)


def metric_curves(curves: dict[str, dict[str, list[tuple[float, float]]]], ylabel: str, xlabel: str, out_dir: Path,
                  name: str, title: str = "") -> Path:
    """Lines of a metric against a step axis, one per arm, each as mean with a ±std band over seeds.

    `curves[arm] = {"x": [...], "mean": [...], "std": [...]}`.
    """
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for i, (arm, c) in enumerate(curves.items()):
        x, m, s = np.asarray(c["x"]), np.asarray(c["mean"]), np.asarray(c["std"])
        col = _arm_color(arm, i)
        ax.plot(x, m, marker="o", ms=3, color=col, label=arm)
        ax.fill_between(x, m - s, m + s, color=col, alpha=0.15)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, out_dir, name)


def grouped_bars(values: dict[str, dict[str, tuple[float, float]]], ylabel: str, out_dir: Path, name: str,
                 title: str = "") -> Path:
    """Bars per group (x) and arm (colour): `values[arm][group] = (mean, std)`."""
    arms = list(values)
    groups = list(dict.fromkeys(g for v in values.values() for g in v))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    width = 0.8 / max(len(arms), 1)
    for i, arm in enumerate(arms):
        m = [values[arm].get(g, (np.nan, 0))[0] for g in groups]
        s = [values[arm].get(g, (np.nan, 0))[1] for g in groups]
        ax.bar(np.arange(len(groups)) + i * width, m, width, yerr=s, color=_arm_color(arm, i), label=arm, capsize=2)
    ax.set_xticks(np.arange(len(groups)) + width * (len(arms) - 1) / 2, groups)
    ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    ax.legend(fontsize=7)
    return save(fig, out_dir, name)


def group_deltas(rows: list[dict], out_dir: Path, name: str = "ood_delta_by_phrasing", title: str = "") -> Path:
    """Delta HSR per phrasing (one dot each, sized by its prompts, coloured by constraint type) and per constraint
    type (a bar), from `claims.group_breakdown`'s rows."""
    types = [r for r in rows if r["kind"] == "constraint type"]
    phr = [r for r in rows if r["kind"] == "phrasing"]
    names = [t["group"] for t in types]
    fig, ax = plt.subplots(figsize=(7.5, 0.55 * len(names) + 1.6))
    for i, t in enumerate(types):
        ax.barh(i, t["delta"], color=plt.cm.tab10(i % 10), alpha=0.35)
        dots = [p for p in phr if p["group"].split("/")[0] == t["group"]]
        ys = i + np.linspace(-0.25, 0.25, len(dots)) if len(dots) > 1 else [i] * len(dots)
        ax.scatter([p["delta"] for p in dots], ys, s=[8 + 2 * p["n_prompts"] for p in dots],
                   color=plt.cm.tab10(i % 10), edgecolor="black", lw=0.4, zorder=3)
    ax.axvline(0, color="grey", lw=0.8)
    ax.set_yticks(range(len(names)), [f"{t['group']} ({t['n_prompts']} prompts)" for t in types])
    ax.set_xlabel("Δ HSR, arm − reference (bar: constraint type; dots: its phrasings, size ∝ prompts)")
    ax.set_title(title or "Where the difference sits on the ood suite (no intervals: small groups)", fontsize=10)
    return save(fig, out_dir, name)


def benchmark_vs_following(summary: dict[str, dict], out_dir: Path, name: str = "benchmark_vs_hsr",
                           title: str = "", ylabel: str = "HSR") -> Path:
    """The headline: benchmark accuracy before SFT (x, two panels: Q-A form and format-neutral) against HSR after
    SFT (y; `ylabel`: what the track measures as HSR), one point per arm/method with ±std bars over seeds. Both axes:
    higher is better."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.3), sharey=True)
    for ax, key, label in ((axes[0], "benchmark_accuracy", "Q-A-form benchmark accuracy (before SFT)"),
                           (axes[1], "benchmark_neutral", "format-neutral benchmark accuracy (before SFT)")):
        for i, (arm, s) in enumerate(summary.items()):
            col = _arm_color(arm, i)
            ax.errorbar(s[key]["mean"], s["hsr"]["mean"], xerr=s[key]["std"], yerr=s["hsr"]["std"], fmt="o",
                        color=col, capsize=3, label=f"{arm} (n={s['hsr']['n']})")
            ax.annotate(arm, (s[key]["mean"], s["hsr"]["mean"]), fontsize=7, xytext=(4, 4),
                        textcoords="offset points", color=col)
        ax.set_xlabel(label)
    axes[0].set_ylabel(f"{ylabel}\nafter identical SFT (higher is better)")
    axes[1].legend(fontsize=7, loc="best")
    if title:
        fig.suptitle(title, fontsize=10)
    return save(fig, out_dir, name)


def unlearning_dynamics(dyn: dict[str, dict], tokens_per_step: dict[str, float], out_dir: Path,
                        name: str = "unlearning_dynamics") -> Path:
    """Four panels against unlearning tokens (thousands), one line per method: forget-set NLL (higher = more
    forgotten), replay NLL (lower is better), the Q-A-form benchmark at snapshots (higher is better) and, before SFT,
    the SynthQA-shaped leakage rate at snapshots (lower is better)."""
    fig, axes = plt.subplots(1, 4, figsize=(16, 3.8))
    for i, (method, d) in enumerate(dyn.items()):
        col = _arm_color(method, i)
        k = tokens_per_step.get(method, 1.0) / 1000
        axes[0].plot(np.asarray(d["step"]) * k, d["forget_nll"], color=col, label=method)
        axes[1].plot(np.asarray(d["step"]) * k, d["replay_nll"], color=col, label=method)
        snaps = sorted((int(s), v) for s, v in d["benchmark_qa_at_snapshots"].items())
        axes[2].plot([s * k for s, _ in snaps], [v for _, v in snaps], marker="o", color=col, label=method)
        follow = sorted((int(s), v["leak_rate"]) for s, v in d.get("following_before_sft_at_snapshots", {}).items())
        axes[3].plot([s * k for s, _ in follow], [v for _, v in follow], marker="o", color=col, label=method)
    for ax, lab in zip(axes, ("forget-set NLL (nats/token; higher = more forgotten)",
                              "replay NonSynth NLL (nats/token; lower is better)",
                              "Q-A-form benchmark accuracy (higher is better)",
                              "leakage before SFT (lower is better)")):
        ax.set_xlabel("unlearning tokens (thousands)")
        ax.set_ylabel(lab, fontsize=8)
    axes[0].set_yscale("log")
    axes[0].legend(fontsize=7)
    return save(fig, out_dir, name)


def table_figure(rows: list[dict], out_dir: Path, name: str, title: str = "") -> Path:
    """A table (list of row dicts, same keys) rendered as a figure, for PNG/PDF alongside the plots."""
    cols = list(rows[0])
    fig, ax = plt.subplots(figsize=(max(6.0, 1.45 * len(cols)), 0.3 * len(rows) + 0.8))
    ax.axis("off")
    table = ax.table(cellText=[[str(r[c]) for c in cols] for r in rows], colLabels=cols, loc="center",
                     cellLoc="center", bbox=[0, 0, 1, 1])
    table.auto_set_font_size(False)
    table.set_fontsize(7)
    table.scale(1, 1.3)
    if title:
        ax.set_title(title, fontsize=9)
    return save(fig, out_dir, name)


def phase_heatmap(table: list[dict], out_dir: Path, name: str = "phase_map_heatmap", arm_prefix: str = "synthetic@",
                  value: str = "delta", title: str = "") -> Path:
    """Heatmap of a phase-map value (default Delta HSR, synthetic − reference, paired) over SynthQA dose (rows) × SFT
    step (columns); each cell shows value ± SE, and a box marks the cells whose 95 % interval excludes 0."""
    cells = [c for c in table if c["arm"].startswith(arm_prefix)]
    doses = sorted({c["ratio"] for c in cells})
    steps = sorted({c["step"] for c in cells})
    grid = np.full((len(doses), len(steps)), np.nan)
    fig, ax = plt.subplots(figsize=(1.3 * len(steps) + 2.5, 0.8 * len(doses) + 1.8))
    lim = max([abs(c[value]) for c in cells] + [0.01])
    for c in cells:
        grid[doses.index(c["ratio"]), steps.index(c["step"])] = c[value]
    im = ax.imshow(grid, cmap="RdBu", vmin=-lim, vmax=lim, aspect="auto")
    for c in cells:
        i, j = doses.index(c["ratio"]), steps.index(c["step"])
        se = c["se"] if value == "delta" else c["leak_se"]
        ax.text(j, i, f"{c[value]:+.3f}\n±{se:.3f}", ha="center", va="center", fontsize=8)
        lo, hi = c.get("ci95" if value == "delta" else "ci95_leak") or (c[value] - 2 * se, c[value] + 2 * se)
        if not lo <= 0 <= hi:
            ax.add_patch(plt.Rectangle((j - 0.48, i - 0.48), 0.96, 0.96, fill=False, lw=2.2, color="black"))
    ax.set_xticks(range(len(steps)), [str(s) for s in steps])
    ax.set_yticks(range(len(doses)), [f"{d:g}" for d in doses])
    ax.set_xlabel("SFT steps")
    ax.set_ylabel("SynthQA share of CPT tokens")
    fig.colorbar(im, ax=ax, label=("Δ HSR (synthetic − reference)" if value == "delta" else "Δ leakage"))
    ax.set_title(title or "Δ HSR, paired per prompt (boxed: 95 % interval excludes 0)", fontsize=10)
    return save(fig, out_dir, name)


def delta_vs_ratio(table: list[dict], out_dir: Path, name: str = "phase_map_delta_vs_ratio") -> Path:
    """Delta HSR (with its 95 % interval) against the SynthQA/SFT token ratio (log axis), one series per arm kind and
    dose; SFT step 0 (no SFT: infinite ratio) is left out."""
    fig, ax = plt.subplots(figsize=(7, 4.2))
    labels = list(dict.fromkeys(c["arm"] for c in table))
    for i, label in enumerate(labels):
        cells = sorted([c for c in table if c["arm"] == label and c["step"] > 0], key=lambda c: c["synthqa_per_sft"])
        if not cells:
            continue
        x = [c["synthqa_per_sft"] for c in cells]
        half = [c["ci95"][1] - c["delta"] if c.get("ci95") else 2 * c["se"] for c in cells]
        ax.errorbar(x, [c["delta"] for c in cells], yerr=half, marker="o" if
                    label.startswith("synthetic") else "s", capsize=3, label=label, color=plt.cm.viridis(i / max(
                        len(labels) - 1, 1)) if label.startswith("synthetic") else "#d62728", lw=1.2)
    ax.axhline(0, color="grey", lw=0.8)
    ax.axvline(5, color="grey", lw=0.8, ls=":")
    ax.text(5, ax.get_ylim()[1], " SynthQA = 5× SFT", va="top", fontsize=8, color="grey")
    ax.set_xscale("log")
    ax.set_xlabel("SynthQA tokens / SFT loss tokens (log)")
    ax.set_ylabel("Δ HSR (arm − reference), 95 % interval")
    ax.legend(fontsize=8)
    return save(fig, out_dir, name)


def phase_curves(table: list[dict], key: str, ylabel: str, out_dir: Path, name: str) -> Path:
    """A value of the arms (e.g. the arm's HSR or leakage) and the reference's along SFT, one line per arm."""
    fig, ax = plt.subplots(figsize=(7, 4))
    labels = list(dict.fromkeys(c["arm"] for c in table))
    ref_key = {"arm_mean": "reference_mean", "leak_arm": "leak_reference"}[key]
    first = sorted([c for c in table if c["arm"] == labels[0]], key=lambda c: c["step"])
    ax.plot([c["step"] for c in first], [c[ref_key] for c in first], color="black", lw=2, label="reference")
    for i, label in enumerate(labels):
        cells = sorted([c for c in table if c["arm"] == label], key=lambda c: c["step"])
        ax.plot([c["step"] for c in cells], [c[key] for c in cells], marker="o", label=label,
                color=plt.cm.viridis(i / max(len(labels) - 1, 1)) if label.startswith("synthetic") else "#d62728")
    steps = [c["step"] for c in first]
    ax.set_xscale("symlog", linthresh=10)
    ax.set_xticks(steps, [str(s) for s in steps])  # the evaluated steps, not the scale's own ticks
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xlabel("SFT steps")
    ax.set_ylabel(ylabel)
    ax.legend(fontsize=8)
    return save(fig, out_dir, name)


def phase_figures(table: list[dict], out_dir: Path, suite: str = "") -> dict[str, Path]:
    """Every figure of the phase map from its cell table (notebook 06 draws them; notebook 05 redraws them from the
    recorded JSON): the Delta HSR and Delta leakage heatmaps, Delta HSR against SynthQA/SFT, HSR and leakage along
    SFT. `suite`: the instruction suite the table is on, named in the titles and labels ("ood")."""
    on = f", {suite} suite" if suite else ""
    return {"heatmap": phase_heatmap(table, out_dir, title=f"Δ HSR{on}, paired per prompt (boxed: 95 % interval "
                                                           f"excludes 0)"),
            "leak_heatmap": phase_heatmap(table, out_dir, "phase_map_leakage", value="leak_delta",
                                          title=f"Δ leakage{on} (synthetic − reference; boxed: 95 % interval "
                                                f"excludes 0)"),
            "delta_vs_ratio": delta_vs_ratio(table, out_dir),
            "hsr_curves": phase_curves(table, "arm_mean", f"HSR{on} (higher is better)", out_dir, "phase_map_hsr"),
            "leak_curves": phase_curves(table, "leak_arm", f"leakage{on} (lower is better)", out_dir,
                                        "phase_map_leak")}
