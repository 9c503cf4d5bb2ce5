"""Rulebook: announcements as effective-dated clauses with default-and-exception semantics."""
