"""Notifications: the in-app centre, per-person preferences, quiet hours and a delivery log for the
channels that reach people outside the app (Web Push, WeCom, DingTalk, email)."""
