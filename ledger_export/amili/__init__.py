"""Everything that talks to, or reads what came from, Amili's API."""
