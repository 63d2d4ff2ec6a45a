"""Centre staff: the visits expected at their centre."""
