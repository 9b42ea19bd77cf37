"""The bench's built-in data, installed as package data (found with importlib.resources).

In the repository the files stay in their top-level folders; packaging (setup.py) maps them here:

- ``bench.data.labs``     <- ``hardware/*.yaml``     lab files (``--lab sim``)
- ``bench.data.networks`` <- ``fixtures/networks/``  network profiles (``--network 5g-urban``)
- ``bench.data.sessions`` <- ``fixtures/sessions/``  recorded sessions (``replay iso-cube``)

Register maps and 5G traces are device data and live in `drivers.data` (drivers never import
bench). So an installed hil-bench puts only `bench` and `drivers` into site-packages.
"""
