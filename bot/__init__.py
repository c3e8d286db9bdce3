"""Composition root and use cases shared by Telegram, the local shell and the web server."""
