"""Administration: organisations, local areas, centres, activity types, users."""
