"""Public pages: the front page, about (with the data credits), privacy, language choice."""
