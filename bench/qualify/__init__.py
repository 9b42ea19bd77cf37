"""Link qualification: measure the live path to a site's robot, write it as a CICV5G trace, and
turn it into GO / NO-GO for a scenario and control mode (`hil-bench link qualify`).

- `probe.py`: bounded, low-rate, read-only probes over the robot's own protocol, with the
  modem's link state sampled at the same time;
- `trace.py`: the measured rows as a CICV5G trace plus a network profile that replays it, and the
  link figures (RTT distribution, jitter, loss, lost runs);
- `decide.py`: the delay headroom of the measured link under the scenario (virtual sweep on the
  measured trace) and the GO / NO-GO decision with its margin and reason.
"""
