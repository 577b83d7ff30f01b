"""Reports: reading, search and feeds for readers; writing and import for staff."""
