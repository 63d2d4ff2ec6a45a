"""Needs: browsing open needs; coordinators' posting of needs comes with the needs issue."""
