"""Data, not code: lab descriptions (`*.yaml`); register maps are in `maps/`.

Installed, this folder is the package `bench.data.labs` (and `maps/` is `drivers.data.maps`; see
setup.py), so `hil-bench` finds its built-in labs from any working directory.
"""
