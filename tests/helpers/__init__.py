"""Helpers shared by the test suites (importable as ``helpers.*``: pytest puts ``tests/`` on the
path through ``pythonpath`` in pyproject.toml): fake judges for labelling and RL
(``labelfakes``), a misbehaving HTTP server (``fault_server``), serving scorers
(``serve_helpers``), synthetic distillation data (``distill_data``) and a label run to kill and
resume (``label_runner``, run as ``python -m helpers.label_runner``)."""
