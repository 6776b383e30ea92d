"""Output formats: terminal tables, JSON / JSON lines, CSV and markdown; all escaping of untrusted text."""
