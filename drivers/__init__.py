"""Device-facing layer of hil-bench: protocols, codecs and simulators of robot arms and modems.

Nothing here imports `bench`: a driver knows how to talk to one kind of device, nothing more.
"""
from drivers.errors import (
    BenchError,
    ConfigError,
    DeviceFault,
    DeviceTimeout,
    ProtocolError,
    SafetyError,
)
from drivers.pose import Pose

__all__ = [
    "BenchError",
    "ConfigError",
    "DeviceFault",
    "DeviceTimeout",
    "Pose",
    "ProtocolError",
    "SafetyError",
]
