"""Stage 1, events: the catalog of announcements (schema, load, validate, filter), the asset
registry and trading calendars, alignment of each instant to each asset's day 0, and
overlapping event windows (contamination).
"""
