"""Recorded sessions: MCAP files of everything a run did, read back as a stream, replayed.

See docs/session-format.md for the layout. Public pieces: `SessionWriter`, `SessionRecorder`
(a RunObserver), `SessionReader`, `session_info`, and the replay in `bench.session.replay`.
"""
from bench.session.info import export_csv, export_jsonl, session_info
from bench.session.reader import SessionMessage, SessionReader, read_session
from bench.session.recorder import SessionRecorder, scenario_from_dict, scenario_to_dict
from bench.session.writer import SessionWriter

__all__ = ["SessionWriter", "SessionRecorder", "SessionReader", "SessionMessage", "read_session",
           "session_info", "export_csv", "export_jsonl", "scenario_to_dict", "scenario_from_dict"]
