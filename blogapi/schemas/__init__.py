"""Marshmallow schemas: one module per area, instances made once at module top."""
