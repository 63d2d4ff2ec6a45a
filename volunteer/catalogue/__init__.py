"""The catalogue Samskab runs in: organisations, local areas, centres and activity types."""
