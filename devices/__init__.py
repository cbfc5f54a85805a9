"""Physics of single VCMA-MTJ devices and differential pairs (imports nothing else of cim-emu)."""

__all__: list[str] = []
