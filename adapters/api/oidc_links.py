"""Moved to adapters.accounts.oidc_links, beside the users the subjects are linked to. These
names stay importable here only for adapters/api/web, until its imports name
adapters.accounts."""

from adapters.accounts.oidc_links import OidcLinkRow as OidcLinkRow
from adapters.accounts.oidc_links import linked_user as linked_user
from adapters.accounts.oidc_links import record_login as record_login
