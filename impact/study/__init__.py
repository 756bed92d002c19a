"""Stage 3, study: windows, normal-return models, hypothesised signs, the batched engine
(``EventStudy``) and its fitted result (``EventStudyResult``: tables, bundles, notebook card).
"""
