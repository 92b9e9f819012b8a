"""cfopt: experiments."""
