"""Posts: writing, publishing, listing and tags (resources, schemas, rules)."""
