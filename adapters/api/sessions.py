"""Moved to adapters.accounts.sessions, beside the users whose sessions they are. These
names stay importable here only for adapters/api/web, until its imports name
adapters.accounts."""

from adapters.accounts.sessions import Lifetimes as Lifetimes
from adapters.accounts.sessions import csrf_for as csrf_for
from adapters.accounts.sessions import end_session as end_session
from adapters.accounts.sessions import open_session as open_session
from adapters.accounts.sessions import session_for as session_for
from adapters.accounts.sessions import utc_now as utc_now
