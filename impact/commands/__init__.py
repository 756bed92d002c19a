"""Command groups of the ``impact`` CLI (one module each, registered in :mod:`impact.cli`)."""
