"""Old import path of :mod:`cim_emu.crossbar.tiles.tile`, kept so that users' imports keep working.

The module object itself is the new one (aliased in ``sys.modules``), so there is one copy of every
class and kernel whichever path imported it.
"""

import sys

from cim_emu.crossbar.tiles import tile as _moved

sys.modules[__name__] = _moved
