"""The crossbar: configuration, differential-pair mapping, converters, IR drop, physical layout, op counters,
tiles (state and physics), kernels (how an MVM runs) and the torch layers built on them."""
