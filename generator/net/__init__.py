"""What goes over the network: resolving identifiers (`report sources`) and checking links (`report links`).

Only those explicit commands import this package; `report build`, `check`, `serve` and the engine plugins never
do, so a build cannot fetch anything (a test imports the build and proves it)."""
