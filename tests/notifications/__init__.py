"""Tests of the notifications' delivery: e-mail through a real SMTP server."""
