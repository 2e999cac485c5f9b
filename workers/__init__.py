"""RQ jobs: one pipeline stage per module (fetch, extract, dedup, relevance, claims, delivery)."""
