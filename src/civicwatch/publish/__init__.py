"""Publishing: what civicwatch gives readers besides its pages (Atom feeds, maps, exports)."""
