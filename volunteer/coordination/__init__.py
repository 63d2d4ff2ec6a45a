"""Coordinators: their organisation's needs; matching and proposals come with the matching issue."""
