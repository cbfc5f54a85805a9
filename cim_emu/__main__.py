"""``python -m cim_emu`` runs the command line."""

import sys

from cim_emu.cli import main

sys.exit(main())
