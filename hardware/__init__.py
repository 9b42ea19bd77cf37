"""Data, not code: lab descriptions (`*.yaml`) and register maps (`maps/*.yaml`).

This file only makes the folder installable so `hil-bench` finds its built-in labs from any
working directory.
"""
