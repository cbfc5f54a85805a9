"""Old import path of :mod:`cim_emu.crossbar.counters`, kept so that users' imports keep working.

The module object itself is the new one (aliased in ``sys.modules``), so there is one copy of every
class and kernel whichever path imported it.
"""

import sys

from cim_emu.crossbar import counters as _moved

sys.modules[__name__] = _moved
