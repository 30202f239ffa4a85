"""Data: the PT text format, the bundled procedural corpus, normalisation, datasets."""
