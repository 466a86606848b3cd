"""Micropub (W3C Recommendation): writers' apps create, edit and delete posts at /micropub,
and upload images at /micropub/media, with a personal access token."""
