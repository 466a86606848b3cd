"""History over HTTP and the CLI: revisions listed, compared and restored, and the trash."""
