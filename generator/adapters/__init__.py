"""Engine adapters: MkDocs (the `report` plugin) and Zensical (a staged docs folder). Only these import an engine."""
