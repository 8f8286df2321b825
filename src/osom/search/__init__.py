"""Full-text search over services, their needs, guidance and Corrections of Error."""
