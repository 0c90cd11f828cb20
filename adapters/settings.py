"""All configuration in one place: environment variables prefixed KRINGLOOP_."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ETAG_SALT = "KRINGLOOP_ETAG_SALT"
"""Not a setting: `kringloop api --workers N` sets it for its workers, so all give the same
ETags (adapters.api.workers); each run a new one."""


class Settings(BaseSettings):
    """Where the data lives and how Kringloop behaves; set by env or CLI options."""

    model_config = SettingsConfigDict(env_prefix="KRINGLOOP_", extra="ignore")

    home: Path = Field(default=Path(".kringloop"), description="the data folder")
    database_url: str | None = Field(
        default=None,
        description="postgresql://user:password@host:port/dbname: store events in PostgreSQL "
        "instead of the SQLite file in the data folder",
    )
    database_schema: str | None = Field(
        default=None, description="PostgreSQL schema for the event store"
    )
    read_schema: str = Field(
        default="kringloop_read", description="PostgreSQL schema for the read models"
    )
    actor: str | None = Field(default=None, description="default actor for CLI decisions")
    log_level: str = Field(default="warning", description="debug, info, warning or error")
    cache_size: int = Field(default=1000, ge=0, description="aggregates kept in memory")
    csv_delimiter: str = Field(
        default=";",
        description="between the fields of a CSV export: ';' as Dutch Excel expects, ',' or tab",
    )
    # single sign-on with OpenID Connect (README "Single sign-on"); off while no issuer is set
    oidc_issuer: str | None = Field(
        default=None, description="the OpenID provider's issuer URL, exactly as its tokens' iss"
    )
    oidc_client_id: str | None = Field(default=None, description="Kringloop's client id there")
    oidc_client_secret: SecretStr | None = Field(default=None, description="the client secret")
    oidc_client_secret_file: Path | None = Field(
        default=None, description="a file holding the client secret (wins over the variable)"
    )
    oidc_redirect_url: str | None = Field(
        default=None, description="https://HOST/login/oidc/callback, as registered at the provider"
    )
    oidc_clock_skew: int = Field(
        default=60, ge=0, le=300, description="seconds of clock difference allowed on tokens"
    )
    oidc_audience: str | None = Field(
        default=None, description="the aud of API access tokens (default: the client id)"
    )
    oidc_acr_values: str = Field(
        default="",
        description="assurance levels asked for at login, space-separated; if set, "
        "the ID token's acr must be one of them",
    )
    oidc_provider_name: str = Field(
        default="your organisation's account", description='the login button: "Log in with …"'
    )
    lock_timeout: float = Field(
        default=30.0,
        ge=0,
        description="seconds a write waits for an SQLite event store locked by another process",
    )
    trusted_proxies: str = Field(
        default="",
        description="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto are believed; none by default",
    )
    privacy_key: Path | None = Field(
        default=None,
        description="the master key file of personal data's keys, outside the data folder and "
        "readable only by the services that seal and show personal data (README 'Privacy, "
        "retention and publication'); default DATA/privacy/master-key",
    )
    signing_key: Path | None = Field(
        default=None,
        description="the audit signing key file (Ed25519 PEM), outside the data folder and "
        "readable only by the service that seals (README 'Audit'); default DATA/audit/"
        "signing-key.pem. Read by adapters.audit.keys from the environment",
    )
    seal_interval: float = Field(
        default=60.0,
        ge=0,
        description="seconds: after a decision or catch-up the chain heads are sealed when "
        "they moved and the latest seal is at least this old; 0 seals after every one",
    )
    # anchoring the seals outside the data folder (README "Audit": what a verify proves)
    tsa_url: str | None = Field(
        default=None,
        description="an RFC 3161 time-stamping authority: each anchored checkpoint of the "
        "seals is time-stamped by it (needs KRINGLOOP_TSA_CERTIFICATES)",
    )
    tsa_certificates: Path | None = Field(
        default=None,
        description="PEM file: the time-stamping authority's certificate, its intermediates "
        "and the root trusted for it; audit verify checks every time stamp against it",
    )
    witness_url: str | None = Field(
        default=None,
        description="a witness (C2SP tlog-witness, `kringloop witness serve`) that co-signs "
        "each anchored checkpoint and refuses one a rollback made (needs KRINGLOOP_WITNESS_KEY)",
    )
    witness_key: str | None = Field(
        default=None,
        description="the witness's verifier key (name+id+key, as `kringloop witness key` "
        "prints it): cosignatures are checked with it",
    )
    log_origin: str | None = Field(
        default=None,
        description="the name of this installation's log at the witness and in checkpoints; "
        "pin it in production (default: one made for the data folder, kept in audit/origin)",
    )
    anchor_copy: Path | None = Field(
        default=None,
        description="a folder outside the data folder (another user's, another machine's) "
        "that keeps a copy of every anchor, so a rollback of the data folder shows",
    )
    anchor_interval: float = Field(
        default=3600.0,
        ge=0,
        description="seconds: after a seal the seals are anchored when the latest anchor is "
        "at least this old; 0 anchors after every seal",
    )
    # notifications (README "Notifications"): mail over SMTP, signed webhooks
    smtp_host: str | None = Field(
        default=None, description="the mail server notifications are sent through; none: no mail"
    )
    smtp_port: int = Field(default=587, description="its port (587: submission with STARTTLS)")
    smtp_starttls: bool = Field(default=True, description="upgrade the connection with STARTTLS")
    smtp_user: str | None = Field(default=None, description="the mail server's login, if any")
    smtp_password: SecretStr | None = Field(default=None, description="its password")
    smtp_password_file: Path | None = Field(
        default=None, description="a file holding the password instead (it wins)"
    )
    smtp_from: str = Field(
        default="kringloop@localhost", description="the From address of notification mails"
    )
    smtp_ca_file: Path | None = Field(
        default=None,
        description="PEM: the certificate authority the mail server's certificate is checked "
        "against (default: the system's)",
    )
    public_url: str = Field(
        default="http://127.0.0.1:8000",
        description="where people reach the web pages: the links in notifications",
    )
    webhook_secret: SecretStr | None = Field(
        default=None,
        description="whsec_...: webhooks are signed with it (Standard Webhooks); receivers "
        "check the signature with the same secret",
    )
    webhook_secret_file: Path | None = Field(
        default=None, description="a file holding the webhook secret instead (it wins)"
    )
    delivery_attempts: int = Field(
        default=5, ge=1, description="tries before a notification is given up and shown as failed"
    )
    delivery_backoff: float = Field(
        default=30.0,
        ge=0,
        description="seconds before the first retry of a notification; doubled each time, "
        "at most an hour",
    )
    notify_max_age_days: int = Field(
        default=14,
        ge=0,
        description="decisions taking effect longer ago than this (history entered late) "
        "notify no one",
    )
    session_idle_minutes: int = Field(
        default=30, ge=1, description="a web session ends after this long without a request"
    )
    session_max_hours: int = Field(
        default=8, ge=1, description="a web session ends this long after login, however busy"
    )

    @model_validator(mode="after")
    def _anchors_checkable(self) -> Settings:
        if self.tsa_url and not self.tsa_certificates:
            raise ValueError(
                "KRINGLOOP_TSA_URL needs KRINGLOOP_TSA_CERTIFICATES: the authority's "
                "certificates, to check its time stamps with"
            )
        if self.witness_url and not self.witness_key:
            raise ValueError(
                "KRINGLOOP_WITNESS_URL needs KRINGLOOP_WITNESS_KEY: the witness's verifier key, "
                "to check its cosignatures with"
            )
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> Settings:
        if self.oidc_issuer and not (self.oidc_client_id and self.oidc_redirect_url):
            raise ValueError(
                "KRINGLOOP_OIDC_ISSUER needs KRINGLOOP_OIDC_CLIENT_ID and "
                "KRINGLOOP_OIDC_REDIRECT_URL"
            )
        return self

    def environment(self) -> dict[str, str]:
        """The settings a command line may give (--home, --database-url, --log-level) as
        the environment variables that give them to another part of this process or to a
        child: the API's app, a Prefect flow run. The rest come from the environment already."""
        env = {"KRINGLOOP_HOME": str(self.home.resolve()), "KRINGLOOP_LOG_LEVEL": self.log_level}
        if self.database_url:
            env["KRINGLOOP_DATABASE_URL"] = self.database_url
        return env

    @property
    def events_path(self) -> Path:
        return self.home / "events.sqlite"

    @property
    def read_store_url(self) -> str:
        """The read models sit beside the events: an SQLite file, or a PostgreSQL schema."""
        return self.database_url or f"sqlite:///{self.home / 'read.sqlite'}"

    @property
    def storage_label(self) -> str:
        if self.database_url:
            return "postgresql"
        return f"sqlite:{self.events_path}"
