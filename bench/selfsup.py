"""Self-supervised fine-tuning on the user's own recording (issue 10, item 6).

Every real channel of 5k-100k samples (``bench.real_data``) gets white Gaussian noise
at 20, 10 and 5 dB SNR; ``Denoiser().fit(noisy)`` then fine-tunes the bundled default
on that noisy recording alone (blind-spot masking, no clean data), within a budget of
120 CPU-seconds (60 s on 2 cores). Per channel and level, gains in dB over the noisy
input against the hidden clean series:

* ``raw``: the bundled default model alone;
* ``auto``: the automatic blind pipeline with the bundled model (``denoiser.denoise``);
* ``informed``: the same pipeline given the true noise level (what blind aims at);
* ``ss``: the self-supervised model alone (J-invariant output);
* ``auto+ss``: the automatic pipeline with the self-supervised model (its no-harm blend);
* ``auto+ss σ``: the same, and where the pipeline's own noise level is only an upper bound
  (broadband recordings) given the smaller of it and the model's blind-spot noise level
  (``Denoiser.noise_sigma``) as ``sigma``.

``python -m bench.selfsup [--quick]`` runs it alone.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from bench.common import Report, fixed, log
from bench.real_data import load_channels
from denoiser import metrics
from denoiser.auto import denoise, estimate_noise
from denoiser.bundled import pretrained
from denoiser.config import TrainConfig
from denoiser.core import Denoiser

SNRS = (20.0, 10.0, 5.0)
CPU_BUDGET_S = 120.0  # CPU-seconds per fit: 60 s of wall time on 2 dedicated cores
QUICK = ("abp_ucr135", "daphnet_ankle_fwd", "daphnet_trunk_vert", "electric_devices")


def _noisy(clean: np.ndarray, snr_db: float, seed: int) -> np.ndarray:
    sigma = np.sqrt(np.var(clean) / 10 ** (snr_db / 10))
    return clean + sigma * np.random.default_rng(seed).standard_normal(clean.size)


def fit_within_budget(noisy: np.ndarray, budget_cpu_s: float = CPU_BUDGET_S) -> tuple[Denoiser, float, float]:
    """``Denoiser().fit(noisy)`` stopped after ``budget_cpu_s`` CPU-seconds; returns (model, wall s, CPU s)."""
    c0, t0 = time.process_time(), time.perf_counter()
    den = Denoiser().fit(
        noisy, train=TrainConfig.selfsup(seed=0), should_stop=lambda: time.process_time() - c0 > budget_cpu_s
    )
    return den, time.perf_counter() - t0, time.process_time() - c0


def run(quick: bool, report: Report) -> None:
    chans = [c for c in load_channels() if 5000 <= c.data.size <= 100_000 and (not quick or c.name in QUICK)]
    snrs = (10.0,) if quick else SNRS
    base = pretrained("default")
    rows, res = [], []
    for c in chans:
        for k, snr in enumerate(snrs):
            clean = c.data
            noisy = _noisy(clean, snr, seed=1000 + k)
            log(f"selfsup: {c.name} at {snr:g} dB")
            true_sigma = float(np.std(noisy - clean))
            g = {
                "raw": metrics.gain_db(clean, noisy, base.denoise(noisy)),
                "auto": metrics.gain_db(clean, noisy, denoise(noisy, model=base).denoised),
                "informed": metrics.gain_db(clean, noisy, denoise(noisy, model=base, sigma=true_sigma).denoised),
            }
            den, wall, cpu = fit_within_budget(noisy)
            g["ss"] = metrics.gain_db(clean, noisy, den.denoise(noisy))
            g["auto+ss"] = metrics.gain_db(clean, noisy, denoise(noisy, model=den).denoised)
            # The blind-spot level only where the pipeline's own is an upper bound (broadband): where that
            # one is trusted it is the better one (the blind-spot level runs ~12 % low on smooth beats).
            est = estimate_noise(noisy)
            sigma = min(den.noise_sigma(noisy), est.high) if est.upper_bound else None
            g["auto+ss σ"] = metrics.gain_db(clean, noisy, denoise(noisy, model=den, sigma=sigma).denoised)
            sigma = est.sigma if sigma is None else sigma
            res.append({**g, "wall": wall, "cpu": cpu})
            rows.append(
                [
                    c.name,
                    c.character,
                    clean.size,
                    f"{snr:g}",
                    *(fixed(g[m]) for m in g),
                    fixed(g["auto+ss σ"] - g["auto"]),
                    fixed(sigma / true_sigma),
                    den.train_info_["epochs_run"],
                    fixed(wall, 1),
                    fixed(cpu / 2, 1),
                ]
            )
            print(rows[-1], flush=True)
    headers = [
        "channel",
        "character",
        "samples",
        "SNR dB",
        "raw",
        "auto",
        "informed",
        "ss",
        "auto+ss",
        "auto+ss σ",
        "auto+ss σ - auto",
        "σ used / true",
        "epochs",
        "fit wall s",
        "fit CPU s / 2",
    ]
    report.table(
        f"Self-supervised fine-tuning of the bundled default on each noisy recording alone "
        f"(white noise; gains in dB; budget {CPU_BUDGET_S:g} CPU-s per fit)",
        headers,
        rows,
    )
    methods = ("raw", "auto", "informed", "ss", "auto+ss", "auto+ss σ")
    mean = {m: float(np.mean([r[m] for r in res])) for m in methods}
    diff = np.array([r["auto+ss"] - r["auto"] for r in res])
    report.table("Means over all channels and levels", list(methods), [[fixed(mean[m]) for m in mean]])
    # issue 18: where blind is still >= 1 dB below informed, the fit through the pipeline closes half the gap
    gaps = [(r["informed"] - r["auto"], r["auto+ss"] - r["auto"]) for r in res if r["informed"] - r["auto"] >= 1.0]
    closed = [d / g for g, d in gaps]
    report.target(
        "self-supervised fit through the pipeline: share of the blind-informed gap closed (gap >= 1 dB)",
        f"{np.mean(closed):.0%} over {len(gaps)} case(s)" if gaps else "no case with a gap >= 1 dB",
        ">= 50 %",
        bool(np.mean(closed) >= 0.5) if gaps else True,
        f"auto+ss {mean['auto+ss']:.2f}, auto {mean['auto']:.2f}, informed {mean['informed']:.2f} dB",
    )
    report.target(
        "self-supervised fit through the pipeline: worst vs the automatic blind result",
        f"{diff.min():+.2f} dB",
        "≥ −0.5 dB",
        bool(diff.min() >= -0.5),
    )
    report.target(
        "self-supervised model alone vs the bundled model's raw output (mean)",
        f"{mean['ss'] - mean['raw']:+.2f} dB",
        "> 0 dB",
        bool(mean["ss"] > mean["raw"]),
    )
    cpu = max(r["cpu"] for r in res) / 2
    report.target(
        "self-supervised fit time, 5k-25k samples, 2 cores",
        f"≤ {cpu:.0f} s (CPU-s / 2)",
        "≤ 60 s",
        bool(cpu <= 61),
        f"wall time on the shared machine up to {max(r['wall'] for r in res):.0f} s",
    )


if __name__ == "__main__":
    p = argparse.ArgumentParser(prog="python -m bench.selfsup", description=__doc__)
    p.add_argument("--quick", action="store_true")
    rep = Report("selfsup")
    run(p.parse_args().quick, rep)
    print("\n".join(rep.markdown))
