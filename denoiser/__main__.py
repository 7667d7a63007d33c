"""``python -m denoiser``: the command line (:mod:`denoiser.cli`)."""

import sys

from denoiser.cli import main

sys.exit(main())
