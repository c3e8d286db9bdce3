"""Ways to run the application: Telegram polling, and the local shell."""
