"""Notifications: notice templates, the inbox and each notice's delivery lifecycle."""
