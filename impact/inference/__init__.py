"""Stage 4, inference: the test battery on a fitted result (parametric, rank and sign
tests, the clustered placebo, Binder's MVRM) and the tools for shared event dates (the
date-clustered wild bootstrap, multiple-testing adjustment, the calendar-time portfolio),
as pure functions of its arrays.
"""
