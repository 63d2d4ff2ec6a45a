"""The volunteer's own pages ("Min side"): profile, availability, visits, their data."""
