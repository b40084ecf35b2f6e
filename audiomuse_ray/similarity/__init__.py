"""Similarity: the Voyager index over track embeddings and the tools built on it."""
