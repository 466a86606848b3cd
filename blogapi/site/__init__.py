"""The public face: feeds, reader pages and the sitemap, built from published posts."""
