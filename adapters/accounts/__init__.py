"""Who may use the API and the pages: named users with a role and a token (their table is
adapters.accounts.users), their web sessions, and the single sign-on subjects linked to
them. Tables beside the read models, never read models themselves. The CLI administers
them, the API checks them, backup and restore copy the users: none of these imports another.
"""
