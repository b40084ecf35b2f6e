"""``python -m audiomuse_ray`` is the ``audiomuse-ray`` command."""

import sys

from audiomuse_ray.cli import main

sys.exit(main())
