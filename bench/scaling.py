"""Scaling: time and memory of ``pretrained("default").denoise(x)`` for 10^3 ... 10^7 samples.

The sizes run in one fresh worker process (``python -m bench.scaling --worker N ...``) so
that the peak-RSS mark belongs to denoising alone: before each size the worker resets
the mark (``/proc/self/clear_refs``) and reports the peak above the resident size it had
with the input already allocated. ``tracemalloc`` adds the peak of Python/numpy
allocations (TensorFlow's own allocator is invisible to it). Writes a table and a
log-log plot ``bench/scaling.png`` (drawn with Pillow).
"""

from __future__ import annotations

import argparse
import gc
import json
import math
import os
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import PY, ROOT, Report, fixed, hwm_mb, log, reset_hwm, rss_mb

PNG = Path(__file__).resolve().parent / "scaling.png"
FULL_SIZES = [10**3, 3 * 10**3, 10**4, 3 * 10**4, 10**5, 3 * 10**5, 10**6, 3 * 10**6, 10**7]
QUICK_SIZES = [10**3, 10**4, 10**5, 10**6]


# ------------------------------------------------------------------ worker (a fresh process)
def _series(n: int) -> np.ndarray:
    from denoiser.signals import add_noise, make_signal

    rng = np.random.default_rng(n)
    return add_noise(make_signal("sines", n, rng), "gaussian", sigma=0.1, rng=rng)


def worker(sizes: Sequence[int]) -> None:
    from denoiser.bundled import pretrained

    den = pretrained("default")
    den.denoise(_series(5000))  # trace the network function once
    for n in sizes:
        x = _series(n)
        repeats = 5 if n <= 10**5 else 3 if n <= 10**6 else 1
        times, peaks = [], []
        for _ in range(repeats):
            gc.collect()
            base = rss_mb()
            ok = reset_hwm()
            t0 = time.perf_counter()
            y = den.denoise(x)
            times.append(time.perf_counter() - t0)
            peaks.append(hwm_mb() - base if ok else float("nan"))
            del y
        gc.collect()
        tracemalloc.start()
        den.denoise(x)
        traced = tracemalloc.get_traced_memory()[1] / 1e6
        tracemalloc.stop()
        print(
            json.dumps(
                {
                    "n": n,
                    "seconds": min(times),
                    "median_s": float(np.median(times)),
                    "repeats": repeats,
                    "rss_peak_mb": max(peaks),
                    "traced_peak_mb": traced,
                    "input_mb": x.nbytes / 1e6,
                }
            ),
            flush=True,
        )


# ------------------------------------------------------------------ the plot
def _font(size: int) -> Any:
    from PIL import ImageFont

    for path in (
        "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
        "/usr/share/fonts/truetype/liberation/LiberationSans-Regular.ttf",
    ):
        if os.path.exists(path):
            return ImageFont.truetype(path, size)
    return ImageFont.load_default()


def _panel(
    img: Any,
    draw: Any,
    box: tuple[int, int, int, int],
    n: Sequence[float],
    series: Sequence[tuple[str, Sequence[float], tuple[int, int, int]]],
    title: str,
    ylabel: str,
) -> None:
    """One log-log panel: decade grid and labels, each series as points joined by lines (with a legend),
    and a dashed slope-1 guide through the first series' largest point."""
    left, top, right, bottom = box
    curves = [
        [(a, b) for a, b in zip(n, ys) if a > 0 and b is not None and np.isfinite(b) and b > 0] for _, ys, _ in series
    ]
    pts = curves[0]
    f, fs = _font(15), _font(12)
    draw.text(((left + right) / 2, top - 28), title, fill=(15, 23, 42), font=f, anchor="mm")
    draw.rectangle(box, outline=(100, 116, 139), width=1)
    if len(pts) < 2:
        draw.text(
            ((left + right) / 2, (top + bottom) / 2), "not enough data", fill=(100, 116, 139), font=f, anchor="mm"
        )
        return
    every = [p for c in curves for p in c]
    lx = [math.log10(a) for a, _ in pts]
    ly = [math.log10(b) for _, b in pts]
    x0, x1 = math.floor(min(math.log10(a) for a, _ in every)), math.ceil(max(math.log10(a) for a, _ in every))
    y0, y1 = math.floor(min(math.log10(b) for _, b in every)), math.ceil(max(math.log10(b) for _, b in every))
    if y1 - y0 < 2:
        y1 = y0 + 2

    def px(v: float) -> float:
        return left + (v - x0) / (x1 - x0) * (right - left)

    def py(v: float) -> float:
        return bottom - (v - y0) / (y1 - y0) * (bottom - top)

    for d in range(x0, x1 + 1):
        for m in range(1, 10):
            v = d + math.log10(m)
            if v <= x1:
                draw.line([(px(v), top), (px(v), bottom)], fill=(203, 213, 225) if m == 1 else (241, 245, 249))
        draw.text((px(d), bottom + 6), f"1e{d}", fill=(51, 65, 85), font=fs, anchor="mt")
    for d in range(y0, y1 + 1):
        for m in range(1, 10):
            v = d + math.log10(m)
            if v <= y1:
                draw.line([(left, py(v)), (right, py(v))], fill=(203, 213, 225) if m == 1 else (241, 245, 249))
        draw.text((left - 6, py(d)), f"1e{d}", fill=(51, 65, 85), font=fs, anchor="rm")
    draw.rectangle(box, outline=(100, 116, 139), width=1)
    # slope-1 guide through the largest point: what linear cost looks like
    gx, gy = lx[-1], ly[-1]
    a, b = max(x0, gx - (gy - y0)), gx
    for k in range(40):
        s, e = a + (b - a) * k / 40, a + (b - a) * (k + 0.5) / 40
        draw.line([(px(s), py(gy - (gx - s))), (px(e), py(gy - (gx - e)))], fill=(148, 163, 184), width=1)
    for k, ((name, _, color), curve) in enumerate(zip(series, curves)):
        xy = [(px(math.log10(u)), py(math.log10(v))) for u, v in curve]
        if len(xy) > 1:
            draw.line(xy, fill=color, width=3)
        for cx, cy in xy:
            draw.ellipse([cx - 5, cy - 5, cx + 5, cy + 5], fill=color, outline=(255, 255, 255))
        if len(series) > 1:
            ly0 = top + 14 + 20 * k
            draw.line([(left + 12, ly0), (left + 36, ly0)], fill=color, width=3)
            draw.text((left + 42, ly0), name, fill=(15, 23, 42), font=fs, anchor="lm")
    draw.text(((left + right) / 2, bottom + 30), "samples (n)", fill=(15, 23, 42), font=f, anchor="mt")
    label = _font(15)
    # vertical y label: draw on a small image and rotate
    from PIL import Image, ImageDraw

    w = int(draw.textlength(ylabel, font=label)) + 4
    tmp = Image.new("RGBA", (w, 22), (255, 255, 255, 0))
    ImageDraw.Draw(tmp).text((2, 2), ylabel, fill=(15, 23, 42), font=label)
    rot = tmp.rotate(90, expand=True)
    img.paste(rot, (left - 78, int((top + bottom) / 2 - rot.size[1] / 2)), rot)


def plot(rows: list[dict[str, Any]], path: Path, subtitle: str) -> None:
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (1200, 560), "white")
    draw = ImageDraw.Draw(img)
    draw.text(
        (600, 22),
        "Cost of Denoiser.denoise(x), default model (window 256), log-log",
        fill=(15, 23, 42),
        font=_font(18),
        anchor="mm",
    )
    draw.text((600, 46), subtitle + "   dashed: slope 1 (linear)", fill=(71, 85, 105), font=_font(12), anchor="mm")
    n = [r["n"] for r in rows]
    _panel(
        img,
        draw,
        (110, 100, 570, 470),
        n,
        [("seconds", [r["seconds"] for r in rows], (37, 99, 235))],
        "time",
        "seconds",
    )
    _panel(
        img,
        draw,
        (710, 100, 1170, 470),
        n,
        [
            ("peak RSS above the input", [r["rss_peak_mb"] for r in rows], (22, 163, 74)),
            ("tracemalloc peak (numpy / Python)", [r["traced_peak_mb"] for r in rows], (245, 158, 11)),
        ],
        "peak memory",
        "MB",
    )
    img.save(path)


# ------------------------------------------------------------------ section
def _slope(n: Sequence[float], y: Sequence[float]) -> float:
    pts = [(math.log10(a), math.log10(b)) for a, b in zip(n, y) if b and np.isfinite(b) and b > 0]
    if len(pts) < 2:
        return float("nan")
    u, v = np.array(pts).T
    return float(np.polyfit(u, v, 1)[0])


def run(quick: bool, report: Report) -> None:
    sizes = QUICK_SIZES if quick else FULL_SIZES
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3", "PYTHONPATH": str(ROOT)}
    log(f"scaling: worker for sizes {sizes[0]:.0e}..{sizes[-1]:.0e}")
    proc = subprocess.run(
        [PY, "-m", "bench.scaling", "--worker", *map(str, sizes)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    rows = [json.loads(ln) for ln in proc.stdout.splitlines() if ln.startswith("{")]
    if proc.returncode != 0 or not rows:
        tail = " | ".join(proc.stderr.strip().splitlines()[-3:])
        report.target("denoise cost grows linearly", "n/a", "linear, no cliff", False, f"worker failed: {tail}")
        return
    table = [
        [
            f"{r['n']:,}",
            fixed(r["seconds"], 4),
            fixed(r["seconds"] / r["n"] * 1e6, 2),
            fixed(r["input_mb"], 1),
            fixed(r["rss_peak_mb"], 1),
            fixed(r["traced_peak_mb"], 1),
            fixed(r["rss_peak_mb"] * 1e6 / r["n"], 0) if np.isfinite(r["rss_peak_mb"]) else "n/a",
        ]
        for r in rows
    ]
    big = [r for r in rows if r["n"] >= 10**4]
    t_slope = _slope([r["n"] for r in big], [r["seconds"] for r in big])
    m_slope = _slope([r["n"] for r in big if r["n"] >= 10**5], [r["rss_peak_mb"] for r in big if r["n"] >= 10**5])
    per = [r["seconds"] / r["n"] for r in big]
    jump = max((b / a for a, b in zip(per, per[1:])), default=float("nan"))
    spread = max(per) / min(per) if per else float("nan")
    report.table(
        "Scaling: pretrained('default').denoise(x) on a noisy sum of sines",
        [
            "samples",
            "seconds",
            "µs/sample",
            "input MB",
            "peak RSS above input MB",
            "tracemalloc peak MB",
            "RSS bytes/sample",
        ],
        table,
        f"Time: best of 5 runs up to 1e5 samples, of 3 up to 1e6, one run above. log-log slope of time for n ≥ 1e4: "
        f"{t_slope:.2f}; of peak RSS for n ≥ 1e5: {m_slope:.2f}. Largest step in µs/sample between "
        f"neighbouring sizes: ×{jump:.2f}. Plot: {PNG.relative_to(ROOT)}.",
    )
    plot(rows, PNG, f"{len(rows)} sizes, {os.cpu_count()} cores; best-of times; peak RSS above the resident input")
    linear = 0.85 <= t_slope <= 1.15 and jump <= 1.5 and spread <= 2.0 and not m_slope > 1.15
    report.target(
        "denoise cost vs length (1e3 … " + f"1e{int(math.log10(sizes[-1]))})",
        f"time slope {t_slope:.2f}, memory slope {m_slope:.2f}, worst step ×{jump:.2f}",
        "linear, no cliff",
        linear,
        f"µs/sample {min(per) * 1e6:.2f}-{max(per) * 1e6:.2f} for n ≥ 1e4; "
        f"{rows[-1]['rss_peak_mb']:.0f} MB peak above input at n = {rows[-1]['n']:.0e}",
    )


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", nargs="+", type=int, required=True)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    worker(ap.parse_args().worker)
    sys.exit(0)
