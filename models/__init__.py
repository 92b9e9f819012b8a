"""cfopt: models."""
