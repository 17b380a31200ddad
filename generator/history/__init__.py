"""History: earlier versions from git (archives, `report check --base`, `report diff`) and what changed between two."""
