"""Moved to adapters.accounts.users: the users table is shared by the CLI, the API, backup
and restore, so it lives outside all of them. These names stay importable here only for
adapters/api/web, until its imports name adapters.accounts."""

from adapters.accounts.users import UserRow as UserRow
from adapters.accounts.users import active_user as active_user
from adapters.accounts.users import credential_id as credential_id
from adapters.accounts.users import user_by_token as user_by_token
