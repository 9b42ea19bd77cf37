"""Measuring instruments (optical/electromagnetic trackers, laser trackers): the ground truth for
ISO 9283 accuracy. `Instrument` is the interface; `registry` maps lab-file names to drivers."""
