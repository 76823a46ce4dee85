"""Progress bars that read well live and stored: a live bar (a widget in Jupyter, text in a terminal), or — where
outputs are stored (`synthrepro pipeline` sets SYNTHREPRO_PROGRESS=final) — one final line per bar."""
from __future__ import annotations

import os
import sys
import time

from tqdm.auto import tqdm

#: "live" (default) or "final": one line when a bar closes (stored notebooks, logs).
MODE_VARIABLE = "SYNTHREPRO_PROGRESS"


class FinalLine:
    """The part of tqdm's interface the project uses; prints one line when closed: what, how many, how long, and the
    last postfix (loss, tokens/s)."""

    def __init__(self, total: int | None = None, initial: int = 0, desc: str = "", unit: str = "it",
                 disable: bool = False, **_):
        self.total, self.n, self.desc, self.unit, self.disable = total, initial, desc, unit, disable
        self.postfix: dict = {}
        self.t0 = time.perf_counter()
        self.closed = False

    def update(self, n: int = 1) -> None:
        self.n += n

    def set_postfix(self, **kw) -> None:
        self.postfix = kw

    def close(self) -> None:
        if self.closed or self.disable:
            return
        self.closed = True
        extra = ", ".join(f"{k}={v}" for k, v in self.postfix.items())
        print(f"{self.desc}: {self.n}/{self.total} {self.unit}s in {time.perf_counter() - self.t0:.1f} s"
              + (f" ({extra})" if extra else ""), file=sys.stderr, flush=True)


def progress(iterable=None, **kwargs):
    """`tqdm.auto.tqdm(iterable, **kwargs)` live, or a `FinalLine` where outputs are stored."""
    if os.environ.get(MODE_VARIABLE) == "final":
        bar = FinalLine(total=kwargs.pop("total", None) or (len(iterable) if iterable is not None else None), **kwargs)
        if iterable is None:
            return bar

        def gen():
            for x in iterable:
                yield x
                bar.update()
            bar.close()
        return gen()
    kwargs.setdefault("dynamic_ncols", True)
    return tqdm(iterable, **kwargs) if iterable is not None else tqdm(**kwargs)
