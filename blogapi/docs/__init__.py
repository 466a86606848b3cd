"""The API describing itself: the OpenAPI document and the interactive docs page."""
