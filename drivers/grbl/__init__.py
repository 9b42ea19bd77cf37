"""G-code / GRBL serial driver: desktop arms, gantries and uArm-style firmware speaking GRBL 1.1."""
