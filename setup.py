"""Packaging: everything else is in pyproject.toml; this file only maps the data folders.

The repository keeps its data in top-level folders (`hardware/`, `fixtures/`) so they are easy
to find and edit. Installed, they become package data inside this project's own two packages:
a wheel puts only `bench/` and `drivers/` into site-packages, never top-level `hardware` or
`fixtures` (names other projects use; `fixtures` is a PyPI testing library). setuptools cannot
compute the package list and map folders in pyproject.toml alone, hence this file.
"""
from setuptools import find_packages, setup

#: installed package -> repository folder (see bench/data/__init__.py and drivers/data/__init__.py)
DATA_PACKAGES = {
    "bench.data.labs": "hardware",
    "bench.data.networks": "fixtures/networks",
    "bench.data.sessions": "fixtures/sessions",
    "drivers.data.maps": "hardware/maps",
    "drivers.data.traces": "fixtures/traces",
}

setup(packages=find_packages(include=["bench", "bench.*", "drivers", "drivers.*"])
      + list(DATA_PACKAGES),
      package_dir=DATA_PACKAGES)
