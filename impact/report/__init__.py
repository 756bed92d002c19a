"""Stage 5, report: specs, headline findings, tables, figures and the HTML/Markdown report.
"""
