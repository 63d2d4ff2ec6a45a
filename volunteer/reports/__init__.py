"""Reports for coordinators and the municipality (comes with the reports issue)."""
