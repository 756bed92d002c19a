"""Stage 4, inference: the test battery on a fitted result (parametric, rank and sign
tests, the clustered placebo, Binder's MVRM), as pure functions of its arrays.
"""
