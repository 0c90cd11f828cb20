"""Audit: the hash chain over stored events, signed chain heads, signed exports, history,
the record as it stood on any date, and what-if replays in a sandbox."""
