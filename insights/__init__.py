"""Iteration insight: what customers did and said, per prototype, version, task and screen (reads through the store, drawn by reports)."""
