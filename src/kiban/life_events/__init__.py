"""Life events (moving, birth, death, …) composed from block facades only."""
