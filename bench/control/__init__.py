"""Control modes (target / stream / remote-loop) and the pipelined network link they run over."""
from bench.control.link import ConstantDelay, DelaySource, ArmChannel, Reading
from bench.control.modes import CONTROL_MODES, ControlMode, ControlSettings, MoveContext, MoveTrace

__all__ = ["CONTROL_MODES", "ConstantDelay", "ControlMode", "ControlSettings", "DelaySource",
           "ArmChannel", "MoveContext", "MoveTrace", "Reading"]
