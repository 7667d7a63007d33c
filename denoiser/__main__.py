import sys

from denoiser.cli import main

sys.exit(main())
