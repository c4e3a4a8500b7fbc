"""A stand-in layer: proves the layer's ContentUri is on the function's import path."""

LAYER_LOADED = True
