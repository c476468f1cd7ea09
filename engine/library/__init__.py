"""Libraries: folders registered, indexed into the store and kept in step."""
