"""cfopt: formulations."""
