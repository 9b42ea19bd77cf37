"""Metrics computed from recorded samples (ISO 9283 and time-domain figures)."""
