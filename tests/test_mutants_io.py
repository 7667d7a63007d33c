"""Tests written against mutmut's survivors in ``denoiser.io`` (docs/TESTING.md, issue 13).

Each test pins what a caller of the reader/writer sees -- a refusal's text (the line number of
an overlong line, a limit in MB, plural forms), a parsed value at a boundary, a written cell --
so that a one-token change to ``denoiser/io/*`` turns it red. Fast and TensorFlow-free: mutmut
runs these against every io mutant.
"""
from __future__ import annotations
