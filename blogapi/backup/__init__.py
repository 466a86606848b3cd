"""Bulk data: lossless export and import, and demo data for trying the API out."""
