"""Extraction: bulletins in, change records out (the rule engine and its attribute extractors)."""
