"""Server-rendered pages of the shared diagnostic centres."""
