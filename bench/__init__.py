"""Benchmarks of the Denoiser project (issue 4): quality, speed, scaling and app timing.

Run ``python -m bench`` (full, < 30 min on 2 cores) or ``python -m bench --quick`` (< 5 min);
``--only quality,speed,scaling,app`` (or the speed parts ``train,latency,csv``) picks sections.
Each section prints its tables; one summary table of every target closes the run and is
written with all tables to ``bench/_out/summary.md``. Benchmarks measure; nothing asserts on time.
"""
