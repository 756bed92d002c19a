"""Stage 6, the command line: :mod:`impact.cli.main` is the entry point; one module per
command group.
"""
