"""Simulators: devices too, implementing the device side of the same protocols."""
