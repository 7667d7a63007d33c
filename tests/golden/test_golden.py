"""The seeded draws behind the bundled models are reproduced exactly (see ``digests.py``)."""

from __future__ import annotations

import numpy as np
import pytest

from tests.golden.digests import RECIPES, stored

STORED = stored()


def test_every_recipe_has_a_stored_digest():
    assert sorted(STORED) == sorted(RECIPES), "run python -m tests.golden.regenerate (and say why)"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_seeded_draw_reproduces_its_digest(name):
    np.testing.assert_allclose(
        RECIPES[name](),
        STORED[name],
        rtol=1e-9,
        atol=1e-10,
        err_msg=f"{name}: the seeded draw changed; if deliberate, run python -m tests.golden.regenerate and say why",
    )
