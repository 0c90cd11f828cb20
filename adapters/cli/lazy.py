"""A command group whose catalogue commands are built only when asked for, so that a read
such as `kringloop initiative show` never pays for building thirty decision commands."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import typer
from typer.core import TyperGroup

if TYPE_CHECKING:
    import click


class CatalogueGroup(TyperGroup):
    """`kringloop programme|initiative`: the hand-written reads, plus one command per
    catalogue entry of the group, generated on first use. A sub-command it had before a
    rename still works, marked deprecated."""

    def _catalogue(self) -> dict[str, Any]:
        from domain.commands.catalogue import CATALOGUE  # only now: it builds every command model

        return {cls.command: cls for cls in CATALOGUE.values() if cls.cli_group == self.name}

    def _former(self) -> dict[str, Any]:
        return {
            verb: cls
            for cls in self._catalogue().values()
            for verb in cls.former_verbs
            if verb != cls.command
        }

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(
            set(super().list_commands(ctx)) | set(self._catalogue()) | set(self._former())
        )

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        found = super().get_command(ctx, cmd_name)
        if found is not None:
            return found
        cls = self._catalogue().get(cmd_name)
        deprecated: bool | str = False
        if cls is None:
            cls = self._former().get(cmd_name)
            deprecated = f"use `kringloop {self.name} {cls.command}`" if cls else False
        if cls is None:
            return None
        from adapters.cli.catalogue import make_cli_command

        single = typer.Typer(rich_markup_mode=None)
        single.command(cmd_name, help=cls.__doc__, deprecated=deprecated)(make_cli_command(cls))
        command = typer.main.get_command(single)
        command.name = cmd_name
        self.add_command(command, cmd_name)
        return command
