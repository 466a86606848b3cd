"""Media: uploaded images, checked by their content, stripped, re-encoded and stored."""
