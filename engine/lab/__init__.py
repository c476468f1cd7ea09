"""The comparison lab: RAG, fine-tuning or both, measured on the user's own questions.

questions.py (question sets), scoring.py (per-answer scores), stats.py (intervals and
paired tests), runs.py (stored, resumable runs), report.py (table, HTML, CSV),
judge.py (the optional judge), service.py (what the engine offers).
"""
