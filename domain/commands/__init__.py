"""Commands: pydantic models of the decisions the engine accepts. The catalogue of all of
them is ``domain.commands.catalogue`` (imported only where every command is needed)."""
