"""Behaviour of the automatic pipeline's parts (denoiser.auto), as a user sees them: no TensorFlow.

Written for issue 20's mutation testing of ``denoiser/auto/*`` (docs/TESTING.md): each test names a
behaviour that a broken constant or comparison would change.
"""
from __future__ import annotations
