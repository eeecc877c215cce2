"""Certificate kinds the International Treaties service issues (registered in certificates.registry)."""
