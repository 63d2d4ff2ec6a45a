"""Reports for coordinators and the municipality: figures, charts, exports, the committee page."""
